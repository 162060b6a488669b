import { GlogLogger, GpuContext } from "@deepspark/engine"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { openTestDevice } from "../packages/engine/src/backend/webgpu/test-device.js"
import { runLocalDistributedTrain } from "../src/driver/distributed-train.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { tinyMnist, type TinyMnist } from "./support/tiny-mnist.js"

/**
 * DeepSpark on the GPU: 2 trainers in worker threads, each training the reduced LeNet with
 * device-resident tensors (one WebGPU device per thread; here both on the one adapter, lavapipe in CI),
 * exchanging with the center through the real RPC; the center, tested on the host, must have learnt.
 */
const probe = await openTestDevice()
const available = probe instanceof GpuContext
if (probe instanceof GpuContext) probe.destroy()

const ITERATIONS = 40
const PERIOD = 10

let data: TinyMnist
beforeAll(async () => {
  if (available) data = await tinyMnist({ trainRecords: 1000, testRecords: 500 })
}, 60_000)

describe.skipIf(!available)("distributed training on the gpu backend", () => {
  it(`2 workers × ${ITERATIONS} iterations on the device, τ ${PERIOD}: every exchange made, the center learnt`, async () => {
    const lines: string[] = []
    const solver = data.solver("solver_gpu.prototxt", { max_iter: ITERATIONS }, { test: false })
    const result = await Effect.runPromise(
      Effect.scoped(
        runLocalDistributedTrain({
          solverFile: solver,
          cwd: data.dir,
          workers: 2,
          backend: "gpu:0",
          settings: makeEasgdSettings({ rule: "async-easgd", period: PERIOD, moving_rate: 0.2 }),
          log: new GlogLogger((l) => lines.push(l)),
          testLog: (l) => lines.push(l)
        })
      )
    )
    const test = await data.test(result.snapshot.caffemodel)
    console.log(`gpu, 2 workers: accuracy ${test.accuracy.toFixed(3)}, loss ${test.loss.toFixed(4)}, ${result.exchanges} exchanges`)
    expect(result.diverged).toBeUndefined()
    expect(result.exchanges).toBe((2 * ITERATIONS) / PERIOD)
    // Chance is 0.10; the cpu backend's center reaches ≈ 0.8 after 150 iterations of this run.
    expect(test.accuracy).toBeGreaterThanOrEqual(0.5)
  }, 300_000)

  it("the trainers open the GPU they are given: one that does not exist stops the run, named", async () => {
    const solver = data.solver("solver_gpu_missing.prototxt", { max_iter: ITERATIONS }, { test: false })
    const run = Effect.runPromise(
      Effect.scoped(
        runLocalDistributedTrain({
          solverFile: solver,
          cwd: data.dir,
          workers: 2,
          backend: "gpu:7",
          settings: makeEasgdSettings({ rule: "async-easgd", period: PERIOD, moving_rate: 0.2 }),
          log: new GlogLogger(() => undefined),
          testLog: () => undefined
        })
      )
    )
    await expect(run).rejects.toThrow(/adapter 7 requested/)
  }, 120_000)
})
