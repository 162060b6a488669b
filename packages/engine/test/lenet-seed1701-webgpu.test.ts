/**
 * Caffe's seed-1701 LeNet run (test/fixtures/caffe/reference/lenet-seed1701: its initial weights, solver and
 * logged losses) on the device-resident WebGPU execution: the first 5 iterations' losses within 1e-4 of
 * Caffe's printed ones. Batch 64 on lavapipe is slow (seconds per iteration), hence 5 iterations only.
 */
import { readCaffemodelSync, readNetPrototxtSync, readSolverPrototxtSync } from "@deepspark/caffe"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { referenceBackend } from "../src/backend/reference.js"
import { GpuContext } from "../src/backend/webgpu/gpu-context.js"
import { ResidentNet } from "../src/backend/webgpu/resident-net.js"
import { openTestDevice } from "../src/backend/webgpu/test-device.js"
import { Net } from "../src/net/net.js"
import { updateSolverFromParameter } from "../src/solvers/create-solver.js"
import { mnistIdxSource } from "./support/mnist-idx-source.js"

// The repository's copies of Caffe's reference run and of its LeNet net (no ../shared needed).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const ref = path.join(repoRoot, "test/fixtures/caffe/reference/lenet-seed1701")

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
afterAll(() => ctx?.destroy())

describe.skipIf(ctx === undefined)("LeNet seed 1701 on the device-resident WebGPU execution", () => {
  it("the first 5 losses match Caffe's within 1e-4, reading back 4 bytes per iteration", async () => {
    const host = new Net(readNetPrototxtSync(path.join(repoRoot, "examples/mnist/lenet_train_test.prototxt")), {
      state: { phase: "TRAIN" },
      backend: referenceBackend,
      services: { dataSourceFactory: mnistIdxSource }
    })
    host.copyTrainedLayersFrom(readCaffemodelSync(path.join(ref, "lenet_seed1701_iter_0_init.caffemodel")))
    const dev = new ResidentNet(ctx!, host)
    const solver = updateSolverFromParameter(readSolverPrototxtSync(path.join(ref, "lenet_solver_20iter.prototxt")))
    const caffe = fs
      .readFileSync(path.join(ref, "seed1701_20iter_losses.csv"), "utf8")
      .split("\n")
      .filter((l) => /^\d+,/.test(l))
      .map((l) => Number(l.split(",")[1]))
    const losses: number[] = []
    for (let it = 0; it < 5; it++) {
      ctx!.resetCounters()
      losses.push(await dev.trainIteration(solver.settings, solver.learningRate(it), it))
      expect(ctx!.bytesRead).toBe(4)
    }
    console.log(`device losses ${losses.map((l) => l.toFixed(6)).join(" ")}; Caffe ${caffe.slice(0, 5).join(" ")}`)
    losses.forEach((l, k) => expect(Math.abs(l - caffe[k]!) / caffe[k]!).toBeLessThan(1e-4))
  }, 120_000)
})
