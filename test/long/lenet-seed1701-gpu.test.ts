/**
 * Opt-in (DEEPSPARK_LONG=1, ~100 s on webasm here): the full seed-1701 LeNet reference run on the `gpu`
 * backend (gpu.js's auto choice: webgpu on a hardware adapter, else webasm) — 20 iterations of Caffe's
 * LeNet solver from Caffe's initial weights, both 10,000-image test passes. Must give Caffe's logged
 * 21 losses to 6 digits, its lr lines, its four test lines exactly (0.071 / 2.34813 → 0.7528 / 0.829852)
 * and its iteration-20 weights within 1e-6. The default suite runs a reduced form
 * (packages/engine/test/lenet-seed1701-gpu.test.ts).
 */
import { blobData, readCaffemodelSync, readSolverPrototxtSync } from "@deepspark/caffe"
import { CapturingLogger, createGpuBackend, createTrainingSession, loadWeights } from "@deepspark/engine"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { mnistWorkspace, repoRoot } from "../support/mnist-workspace.js"

const ref = path.join(repoRoot, "test/fixtures/caffe/reference/lenet-seed1701")

describe("long: LeNet seed 1701 on the gpu backend, with Caffe's full test passes", () => {
  it("reproduces Caffe's losses, lr lines, test lines and iteration-20 weights", async () => {
    // Caffe's LeNet prototxt (examples/mnist holds a verbatim copy) beside the MNIST LMDBs; snapshots
    // go to a folder of this test's own.
    const cwd = await mnistWorkspace()
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "lenet-seed1701-gpu-long-"))
    const gpu = await createGpuBackend({ mode: "auto" })
    try {

      const log = new CapturingLogger()
      const solverParam = { ...readSolverPrototxtSync(path.join(ref, "lenet_solver_20iter.prototxt")), snapshot_prefix: path.join(out, "lenet_seed1701") }
      const session = await createTrainingSession({ solverParam, cwd, backend: gpu, log })
      loadWeights(session, [path.join(ref, "lenet_seed1701_iter_0_init.caffemodel")], log)
      const t0 = performance.now()
      await session.solver.solveAsync()
      await session.close()
      console.log(`gpu backend: ${gpu.description}; ${((performance.now() - t0) / 1000).toFixed(1)} s`)

      const caffe = fs
        .readFileSync(path.join(ref, "seed1701_20iter_losses.csv"), "utf8")
        .split("\n")
        .filter((l) => /^\d+,/.test(l))
        .map((l) => l.split(","))
      const losses = [...session.solver.iterationLosses]
      losses.push(Number(log.messages.find((m) => m.startsWith("Iteration 20, loss = "))?.split(" = ")[1]))
      expect(losses.map((l) => l.toPrecision(6))).toEqual(caffe.map((f) => Number(f[3]).toPrecision(6)))
      expect(log.messages.filter((m) => /^Iteration \d+, lr = /.test(m))).toEqual(caffe.slice(0, 20).map((f) => `Iteration ${f[0]}, lr = ${f[4]!.trim()}`))
      const tests = log.messages.filter((m) => m.startsWith("    Test net output"))
      console.log(tests.join("\n"))
      expect(tests).toEqual([
        "    Test net output #0: accuracy = 0.071",
        "    Test net output #1: loss = 2.34813 (* 1 = 2.34813 loss)",
        "    Test net output #0: accuracy = 0.7528",
        "    Test net output #1: loss = 0.829852 (* 1 = 0.829852 loss)"
      ])

      let worst = 0
      for (const layer of readCaffemodelSync(path.join(ref, "lenet_seed1701_iter_20.caffemodel")).layer ?? []) {
        const mine = session.trainNet.layerByName(layer.name ?? "")
        ;(layer.blobs ?? []).forEach((proto, j) => {
          const theirs = blobData(proto)
          const ours = mine!.blobs[j]!.data
          let maxAbs = 0
          let maxDiff = 0
          for (let k = 0; k < theirs.length; k++) {
            maxAbs = Math.max(maxAbs, Math.abs(theirs[k]!))
            maxDiff = Math.max(maxDiff, Math.abs(theirs[k]! - ours[k]!))
          }
          worst = Math.max(worst, maxDiff / maxAbs)
        })
      }
      console.log(`iteration-20 weights: worst relative difference ${worst.toExponential(3)}`)
      expect(worst).toBeLessThan(1e-6)
    } finally {
      gpu.destroy()
      fs.rmSync(out, { recursive: true, force: true })
    }
  }, 900_000)
})
