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
const shared = path.resolve(repoRoot, "../shared")
const lenetPrototxt = path.join(shared, "caffe/examples/mnist/lenet_train_test.prototxt")

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
const hostDiffs = (net: Net): Float32Array => {
  const all = new Float32Array(net.learnableParams().reduce((n, p) => n + p.blob.count, 0))
  let at = 0
  for (const p of net.learnableParams()) {
    all.set(p.blob.diff.subarray(0, p.blob.count), at)
    at += p.blob.count
  }
  return all
}

// Odd shapes: groups, padding, stride, dilation, padded MAX pooling with a clipped last window, padded AVE pooling, an
// inner product on axis 1, a ReLU with a negative slope out of place, a transposed inner product, a
// Split feeding two losses (VALID and BATCH_SIZE with an ignored label).
const oddNet = `
name: "odd"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 3 dim: 4 dim: 11 dim: 9 } shape { dim: 3 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "conv" convolution_param { num_output: 6 group: 2 kernel_h: 3 kernel_w: 2 pad_h: 2 pad_w: 1 stride_h: 2 stride_w: 1 dilation: 2 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "ave" type: "Pooling" bottom: "pool" top: "ave" pooling_param { pool: AVE kernel_size: 2 stride: 1 pad: 1 } }
layer { name: "ip" type: "InnerProduct" bottom: "ave" top: "ip" inner_product_param { num_output: 7 weight_filler { type: "gaussian" std: 0.2 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "relu" type: "ReLU" bottom: "ip" top: "relu" relu_param { negative_slope: 0.1 } }
layer { name: "ip2" type: "InnerProduct" bottom: "relu" top: "ip2" inner_product_param { num_output: 5 transpose: true weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" loss_weight: 2 }
layer { name: "loss2" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss2" loss_param { normalization: BATCH_SIZE ignore_label: 4 } }
`

// Forward only (Accuracy has no backward): top-k with Caffe's ties rule and an ignored label.
const accuracyNet = `
name: "acc"
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 5 dim: 4 dim: 3 } shape { dim: 5 dim: 3 } } }
layer { name: "acc" type: "Accuracy" bottom: "x" bottom: "label" top: "acc" accuracy_param { top_k: 2 ignore_label: 3 } }
layer { name: "acc1" type: "Accuracy" bottom: "x" bottom: "label" top: "acc1" }
`

describe.skipIf(ctx === undefined)(`device-resident WebGPU net (${ctx?.adapter.description ?? "no adapter"})`, () => {
  it("odd shapes: forward outputs, input diff and every parameter diff match the reference backend (relative 1e-4)", async () => {
    const param = parsePrototxt("NetParameter", oddNet)
    const host = new Net(param, { backend: referenceBackend })
    const x = host.blobByName("x")!
    const label = host.blobByName("label")!
    for (let k = 0; k < x.count; k++) x.data[k] = Math.sin(k * 0.37) * 1.5
    label.data.set([1, 4, 2])
    const dev = new ResidentNet(ctx!, host)
    dev.recordClearParamDiffs()
    dev.recordForward()
    const outputs = await dev.readOutputs()
    dev.recordBackward()
    const diffs = await dev.readParamDiffs()
    const inputDiff = await dev.readBlob(x, "diff")
    host.clearParamDiffs()
    host.forwardBackward()
    expect(outputs.map((o) => o.name)).toEqual(["loss", "loss2"])
    outputs.forEach((o) => expect(Math.abs(o.value - host.blobByName(o.name)!.data[0]!) / host.blobByName(o.name)!.data[0]!).toBeLessThan(1e-4))
    expect(relativeError(diffs, hostDiffs(host))).toBeLessThan(1e-4)
    expect(relativeError(inputDiff, x.diff.slice(0, x.count))).toBeLessThan(1e-4)
  })

  it("Accuracy: top-k with ties and an ignored label, as the reference backend", async () => {
    const host = new Net(parsePrototxt("NetParameter", accuracyNet), { backend: referenceBackend })
    const x = host.blobByName("x")!
    for (let k = 0; k < x.count; k++) x.data[k] = [0.5, 0.1, 0.5, 0.2, 0.9, 0.1][k % 6]!
    host.blobByName("label")!.data.set([0, 1, 2, 3, 0, 2, 1, 1, 3, 0, 2, 2, 0, 1, 3])
    const dev = new ResidentNet(ctx!, host)
    dev.recordForward()
    const outputs = await dev.readOutputs()
    host.forward()
    expect(outputs.map((o) => [o.name, o.value])).toEqual(["acc", "acc1"].map((n) => [n, host.blobByName(n)!.data[0]!]))
  })

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
