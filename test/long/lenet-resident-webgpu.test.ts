/**
 * Long (opt-in, DEEPSPARK_LONG=1): Caffe's LeNet solver (lr 0.01, momentum 0.9, weight decay 5e-4, inv
 * policy) trained for 1,000 iterations with device-resident tensors on whatever WebGPU adapter exists
 * (lavapipe included), then the TEST net on the full 10,000 MNIST test images on the device: accuracy
 * ≥ 0.97. Only the loss comes back per iteration; the parameters cross once, from the train net's arena to
 * the test net's. On lavapipe this takes hours on a small machine (≈ 6 s per iteration on 2 loaded
 * vCPUs); DEEPSPARK_GPU_LONG_ITERATIONS shortens it for a smoke run.
 */
import { readNetPrototxtSync, readSolverPrototxtSync } from "@deepspark/caffe"
import { GpuContext, Net, ResidentNet, referenceBackend, updateSolverFromParameter } from "@deepspark/engine"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { openTestDevice } from "../../packages/engine/src/backend/webgpu/test-device.js"
import { mnistIdxSource } from "../../packages/engine/test/support/mnist-idx-source.js"
import { repoRoot } from "../support/mnist-workspace.js"

const iterations = Number(process.env["DEEPSPARK_GPU_LONG_ITERATIONS"] ?? 1000)

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
afterAll(() => ctx?.destroy())

describe.skipIf(ctx === undefined)("long: LeNet trained with device-resident WebGPU tensors", () => {
  it(`${iterations} iterations reach ≥ 0.97 test accuracy on the 10,000 MNIST test images`, async () => {
    const mnist = path.join(repoRoot, "examples/mnist")
    const param = readNetPrototxtSync(path.join(mnist, "lenet_train_test.prototxt"))
    const solverParam = readSolverPrototxtSync(path.join(mnist, "lenet_solver.prototxt"))
    const services = { dataSourceFactory: mnistIdxSource }
    const train = new ResidentNet(ctx!, new Net(param, { state: { phase: "TRAIN" }, backend: referenceBackend, services }))
    const testHost = new Net(param, { state: { phase: "TEST" }, backend: referenceBackend, services })
    const test = new ResidentNet(ctx!, testHost)
    const solver = updateSolverFromParameter(solverParam)
    const t0 = performance.now()
    let loss = 0
    for (let it = 0; it < iterations; it++) {
      loss = await train.trainIteration(solver.settings, solver.learningRate(it), it)
      if (it % 100 === 0) console.log(`iteration ${it}, loss ${loss.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    }
    test.writeParams(await train.readParams())
    const batches = Math.ceil(10000 / testHost.blobByName("data")!.num)
    let accuracy = 0
    for (let b = 0; b < batches; b++) {
      test.recordForward()
      accuracy += (await test.readOutputs()).find((o) => o.name === "accuracy")!.value
    }
    accuracy /= batches
    console.log(`${ctx!.adapter.description}: ${iterations} iterations in ${((performance.now() - t0) / 1000).toFixed(0)} s, last loss ${loss.toFixed(4)}, test accuracy ${accuracy.toFixed(4)}`)
    expect(accuracy).toBeGreaterThanOrEqual(0.97)
  }, 6 * 3600_000)
})
