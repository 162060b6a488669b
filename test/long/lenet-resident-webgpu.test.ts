/**
 * Long (opt-in, DEEPSPARK_LONG=1): Caffe's LeNet solver (lr 0.01, momentum 0.9, weight decay 5e-4, inv
 * policy) trained for 1,000 iterations by Caffe's Solver loop on the gpu backend — the path of
 * `deepspark train -gpu 0`: device-resident tensors, the update on the device, only the loss read back
 * per iteration — then tested by the solver on the full 10,000 MNIST test images (the test net takes the
 * train net's weights on the device): accuracy ≥ 0.97. On lavapipe this takes 7–18 minutes on 2 shared
 * vCPUs (≈ 0.3–1 s per iteration, then the test); DEEPSPARK_GPU_LONG_ITERATIONS shortens it for a smoke run.
 */
import { readSolverPrototxtSync } from "@deepspark/caffe"
import { createTrainingSession, GlogLogger, GpuContext, referenceBackend } from "@deepspark/engine"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { openTestDevice } from "../../packages/engine/src/backend/webgpu/test-device.js"
import { mnistIdxSource } from "../../packages/engine/test/support/mnist-idx-source.js"
import { repoRoot } from "../support/mnist-workspace.js"

const iterations = Number(process.env["DEEPSPARK_GPU_LONG_ITERATIONS"] ?? 1000)

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
afterAll(() => ctx?.destroy())

describe.skipIf(ctx === undefined)("long: LeNet trained by Caffe's solver on the gpu backend (device-resident)", () => {
  it(`${iterations} iterations reach ≥ 0.97 test accuracy on the 10,000 MNIST test images`, async () => {
    const solverParam = {
      ...readSolverPrototxtSync(path.join(repoRoot, "examples/mnist/lenet_solver.prototxt")),
      max_iter: iterations,
      test_interval: iterations,
      test_initialization: false,
      display: 100,
      snapshot: 0,
      snapshot_after_train: false
    }
    const t0 = performance.now()
    const log = new GlogLogger((line) => {
      if (/Iteration \d+ \(|Test net output/.test(line)) console.log(`${line.replace(/^\S+ \S+ \S+ \S+\] /, "")} (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
    })
    // The host nets run only the Data layers (here straight from the MNIST files); the rest is on the device.
    const session = await createTrainingSession({ solverParam, cwd: repoRoot, backend: referenceBackend, device: ctx!, log, services: { dataSourceFactory: mnistIdxSource } })
    ctx!.resetCounters()
    await session.solver.solveAsync()
    const outputs = session.solver.testNets[0]!.outputs().map((o) => o.name)
    const accuracy = session.solver.meanScores[0]![outputs.indexOf("accuracy")]!
    const seconds = (performance.now() - t0) / 1000
    console.log(`${ctx!.adapter.description}: ${iterations} iterations and the test in ${seconds.toFixed(0)} s, test accuracy ${accuracy.toFixed(4)}; ${ctx!.bytesRead} B read back in all`)
    // Per training iteration 4 B (the loss), and the solver's closing display forward; the test: 100 batches × (accuracy + loss).
    expect(ctx!.bytesRead).toBe(iterations * 4 + (iterations % 100 === 0 ? 4 : 0) + 100 * 8)
    expect(accuracy).toBeGreaterThanOrEqual(0.97)
    await session.close()
  }, 8 * 3600_000)
})
