import { parsePrototxt } from "@deepspark/caffe"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { CapturingLogger } from "../../train/logger.js"
import { createTrainingSession } from "../../train/training-session.js"
import { referenceBackend } from "../reference.js"
import { GpuContext } from "./gpu-context.js"
import { openTestDevice } from "./test-device.js"

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ds-resident-solver-"))
afterAll(() => {
  ctx?.destroy()
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** A small convolutional net on random batches and labels (DummyData refills every forward; labels truncate to 0..2), tested with Accuracy. */
const solverText = (type: string, extra = "") => `
type: "${type}" base_lr: 0.01 lr_policy: "step" stepsize: 2 gamma: 0.5 momentum: 0.9 momentum2: 0.999 delta: 1e-6 weight_decay: 0.001
max_iter: 4 display: 1 random_seed: 11 snapshot_prefix: "${path.join(tmp, type)}"
test_iter: 2 test_interval: 2
${extra}
net_param {
  name: "small"
  layer { name: "data" type: "DummyData" top: "x" top: "label"
    dummy_data_param { shape { dim: 4 dim: 2 dim: 7 dim: 6 } shape { dim: 4 }
      data_filler { type: "gaussian" std: 1 } data_filler { type: "uniform" min: 0 max: 2.999 } } }
  layer { name: "conv" type: "Convolution" bottom: "x" top: "conv" convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
  layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
  layer { name: "relu" type: "ReLU" bottom: "pool" top: "pool" }
  layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.2 } } }
  layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
}`

const session = (type: string, onDevice: boolean, log = new CapturingLogger(), extra = "") =>
  createTrainingSession({ solverParam: parsePrototxt("SolverParameter", solverText(type, extra)), cwd: tmp, log, backend: referenceBackend, ...(onDevice ? { device: ctx! } : {}) })

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30)

const maxRelative = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let diff = 0
  let scale = 0
  for (let k = 0; k < b.length; k++) {
    diff = Math.max(diff, Math.abs(a[k]! - b[k]!))
    scale = Math.max(scale, Math.abs(b[k]!))
  }
  return diff / Math.max(scale, 1e-30)
}

const numbers = (log: CapturingLogger, pattern: RegExp) => log.messages.flatMap((m) => (pattern.test(m) ? [Number(/= (\S+)/.exec(m)![1])] : []))

describe.skipIf(ctx === undefined)(`the Caffe solver on device-resident tensors (${ctx?.adapter.description ?? "no adapter"})`, () => {
  for (const type of ["SGD", "Adam"]) {
    it(`${type}: losses, test scores, the snapshot's weights, diffs and history match the reference backend (relative 1e-4)`, async () => {
      const hostLog = new CapturingLogger()
      const deviceLog = new CapturingLogger()
      const host = await session(type, false, hostLog, "snapshot_diff: true")
      const dev = await session(type, true, deviceLog, "snapshot_diff: true")
      host.solver.solve()
      await dev.solver.solveAsync()
      expect(dev.solver.iterationLosses.length).toBe(4)
      dev.solver.iterationLosses.forEach((l, k) => expect(relative(l, host.solver.iterationLosses[k]!)).toBeLessThan(1e-4))
      // The test net took the train net's weights on the device: same accuracy and loss lines.
      const scores = /Test net output/
      expect(numbers(deviceLog, scores).length).toBe(numbers(hostLog, scores).length)
      numbers(deviceLog, scores).forEach((v, k) => expect(relative(v, numbers(hostLog, scores)[k]!) < 1e-4 || Math.abs(v - numbers(hostLog, scores)[k]!) < 1e-6).toBe(true))
      // The final snapshot copied the device's parameters and history into the host net and solver.
      expect(fs.existsSync(`${path.join(tmp, type)}_iter_4.caffemodel`)).toBe(true)
      dev.trainNet.learnableParams().forEach((p, k) => expect(maxRelative(p.blob.data.subarray(0, p.blob.count), host.trainNet.learnableParams()[k]!.blob.data.subarray(0, p.blob.count))).toBeLessThan(1e-4))
      // snapshot_diff: the diffs (the last update's steps) came back too.
      dev.trainNet.learnableParams().forEach((p, k) => expect(maxRelative(p.blob.diff.subarray(0, p.blob.count), host.trainNet.learnableParams()[k]!.blob.diff.subarray(0, p.blob.count))).toBeLessThan(1e-4))
      expect(dev.solver.updater.history.length).toBe(host.solver.updater.history.length)
      dev.solver.updater.history.forEach((h, k) => expect(maxRelative(h, host.solver.updater.history[k]!)).toBeLessThan(1e-4))
      await Promise.all([host.close(), dev.close()])
    }, 120_000)
  }

  it("an iteration reads back the loss and nothing else (bytes moved per iteration counted)", async () => {
    const dev = await session("SGD", true, new CapturingLogger(), "snapshot_after_train: false")
    const solver = dev.solver
    await solver.stepAsync(1) // pipelines compiled, the first test done
    const read: number[] = []
    const written: number[] = []
    for (let k = 0; k < 3; k++) {
      ctx!.resetCounters()
      await solver.stepAsync(1)
      read.push(ctx!.bytesRead)
      written.push(ctx!.bytesWritten)
    }
    // The second step tests the net first (2 batches × loss and accuracy); every iteration reads its 4-byte loss, nothing else.
    expect(read).toEqual([4, 2 * 2 * 4 + 4, 4])
    // Up: the batch (4×2×7×6 values and 4 labels), the dropout seed and the solver's rates; never the parameters.
    const batch = (4 * 2 * 7 * 6 + 4) * 4
    expect(written[0]).toBeLessThan(batch + 256)
    expect(written[0]).toBeGreaterThanOrEqual(batch)
    await dev.close()
  }, 120_000)

  it("clip_gradients and L1 decay, which the device update lacks, are refused when the session starts", async () => {
    await expect(session("SGD", true, new CapturingLogger(), "clip_gradients: 1")).rejects.toThrow(/clip_gradients is not on the device/)
    await expect(session("SGD", true, new CapturingLogger(), 'regularization_type: "L1"')).rejects.toThrow(/L1 regularisation/)
  })

  it("the synchronous solve refuses a device net with a clear error", async () => {
    const dev = await session("SGD", true)
    expect(() => dev.solver.solve()).toThrow(/runs on a device/)
    await dev.close()
  })
})
