import { readNetPrototxtSync, parsePrototxt } from "@deepspark/caffe"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import type { DataBatchSource, DataSourceFactory } from "../../layers/data.js"
import { Net } from "../../net/net.js"
import { SgdSolver } from "../../solvers/sgd.js"
import { updateSettingsFrom } from "../../solvers/update-settings.js"
import { referenceBackend } from "../reference.js"
import { GpuContext } from "./gpu-context.js"
import { ResidentNet } from "./resident-net.js"
import { openTestDevice } from "./test-device.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../..")
// The repository's verbatim copy of Caffe's LeNet (no ../shared needed).
const lenetPrototxt = path.join(repoRoot, "examples/mnist/lenet_train_test.prototxt")

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
afterAll(() => ctx?.destroy())

/** Deterministic pseudo-MNIST batches (same stream for every net built from it). */
const syntheticSource = (seed: number): DataSourceFactory => () => {
  let state = seed
  const next = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32)
  const source: DataBatchSource = {
    itemShape: [1, 28, 28],
    nextBatch(batch, data, label) {
      for (let b = 0; b < batch; b++) {
        const digit = Math.floor(next() * 10)
        if (label) label[b] = digit
        // A class-dependent blob plus noise, already scaled like transform_param.scale 1/256.
        for (let k = 0; k < 784; k++) data[b * 784 + k] = (((k % 28) + digit * 2) % 28 < 6 ? 0.8 : 0) + next() * 0.2
      }
    }
  }
  return source
}

const relativeError = (a: Float32Array, b: Float32Array): number => {
  let diff = 0
  let scale = 0
  for (let k = 0; k < a.length; k++) {
    diff = Math.max(diff, Math.abs(a[k]! - b[k]!))
    scale = Math.max(scale, Math.abs(b[k]!))
  }
  return diff / Math.max(scale, 1e-30)
}

const hostParams = (net: Net): Float32Array => {
  const all = new Float32Array(net.learnableParams().reduce((n, p) => n + p.blob.count, 0))
  let at = 0
  for (const p of net.learnableParams()) {
    all.set(p.blob.data.subarray(0, p.blob.count), at)
    at += p.blob.count
  }
  return all
}

describe.skipIf(ctx === undefined)(`device-resident WebGPU net (${ctx?.adapter.description ?? "no adapter"})`, () => {
  it("LeNet: 3 SGD iterations track the reference backend (losses and weights within 1e-4) and read back only the loss", async () => {
    // Caffe's LeNet with batch 8 instead of 64 (lavapipe runs on the CPU; the kernels do not depend on it).
    const param = readNetPrototxtSync(lenetPrototxt)
    for (const l of param.layer ?? []) if (l.data_param) l.data_param.batch_size = 8
    const solverParam = parsePrototxt("SolverParameter", `base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75 max_iter: 10`)
    const settings = updateSettingsFrom(solverParam)
    const reference = new Net(param, { state: { phase: "TRAIN" }, backend: referenceBackend, services: { dataSourceFactory: syntheticSource(7) } })
    const host = new Net(param, { state: { phase: "TRAIN" }, backend: referenceBackend, services: { dataSourceFactory: syntheticSource(7) } })
    const dev = new ResidentNet(ctx!, host)
    const solver = new SgdSolver(settings)
    const rates = new SgdSolver(settings)
    const referenceLosses: number[] = []
    const deviceLosses: number[] = []
    const readPerIteration: number[] = []
    for (let it = 0; it < 3; it++) {
      reference.clearParamDiffs()
      referenceLosses.push(reference.forwardBackward())
      solver.applyUpdate(reference.learnableParams(), it)
      ctx!.resetCounters()
      deviceLosses.push(await dev.trainIteration(settings, rates.learningRate(it)))
      readPerIteration.push(ctx!.bytesRead)
    }
    expect(readPerIteration).toEqual([4, 4, 4])
    deviceLosses.forEach((l, k) => expect(Math.abs(l - referenceLosses[k]!) / referenceLosses[k]!).toBeLessThan(1e-4))
    ctx!.resetCounters()
    const params = await dev.readParams()
    expect(ctx!.bytesRead).toBe(431080 * 4)
    expect(relativeError(params, hostParams(reference))).toBeLessThan(1e-4)
    // The host net's blobs were never written by training: the parameters live on the device.
    expect(relativeError(hostParams(host), hostParams(reference))).toBeGreaterThan(1e-4)
  }, 120_000)
})
