import { parsePrototxt } from "@deepspark/caffe"
import { afterAll, describe, expect, it } from "vitest"
import { Net } from "../../net/net.js"
import { referenceBackend } from "../reference.js"
import { GpuContext } from "./gpu-context.js"
import { ResidentNet } from "./resident-net.js"
import { openTestDevice } from "./test-device.js"

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
afterAll(() => ctx?.destroy())

const relativeError = (a: Float32Array, b: Float32Array): number => {
  let diff = 0
  let scale = 0
  for (let k = 0; k < a.length; k++) {
    diff = Math.max(diff, Math.abs(a[k]! - b[k]!))
    scale = Math.max(scale, Math.abs(b[k]!))
  }
  return diff / Math.max(scale, 1e-30)
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

// Forward only (Accuracy has no backward): top-k with Caffe's ties rule and an ignored label, a per-class top.
const accuracyNet = `
name: "acc"
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 5 dim: 4 dim: 3 } shape { dim: 5 dim: 3 } } }
layer { name: "acc" type: "Accuracy" bottom: "x" bottom: "label" top: "acc" accuracy_param { top_k: 2 ignore_label: 3 } }
layer { name: "acc1" type: "Accuracy" bottom: "x" bottom: "label" top: "acc1" top: "perclass" }
`

// LRN across channels, Sigmoid, Flatten, TanH in place, Reshape, Silence, Dropout in TEST (the identity).
const moreLayersNet = `
name: "more"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" top: "unused" input_param { shape { dim: 2 dim: 3 dim: 5 dim: 4 } shape { dim: 2 } shape { dim: 3 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "conv" convolution_param { num_output: 7 kernel_size: 2 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.2 } } }
layer { name: "lrn" type: "LRN" bottom: "conv" top: "lrn" lrn_param { local_size: 5 alpha: 0.3 beta: 0.75 k: 2 } }
layer { name: "sig" type: "Sigmoid" bottom: "lrn" top: "sig" }
layer { name: "flat" type: "Flatten" bottom: "sig" top: "flat" }
layer { name: "ip" type: "InnerProduct" bottom: "flat" top: "ip" inner_product_param { num_output: 6 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "tanh" type: "TanH" bottom: "ip" top: "ip" }
layer { name: "drop" type: "Dropout" bottom: "ip" top: "ip" include { phase: TEST } }
layer { name: "shape" type: "Reshape" bottom: "ip" top: "r" reshape_param { shape { dim: 0 dim: 3 dim: 2 } } }
layer { name: "flat2" type: "Flatten" bottom: "r" top: "f2" }
layer { name: "silence" type: "Silence" bottom: "unused" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "f2" bottom: "label" top: "loss" }
`

// Convolutions of one group, which run through the column matrix: stride, padding, dilation, a rectangular
// kernel; one with two bottoms (its weight diff from the image, not the columns). Their tops flattened and
// concatenated into an InnerProduct.
const columnsNet = `
name: "columns"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "x2" top: "label" input_param { shape { dim: 3 dim: 2 dim: 9 dim: 7 } shape { dim: 3 dim: 2 dim: 9 dim: 7 } shape { dim: 3 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 5 kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 2 stride_h: 2 stride_w: 3 dilation: 2 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "twin" type: "Convolution" bottom: "x" bottom: "x2" top: "t1" top: "t2" convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "f1" type: "Flatten" bottom: "c" top: "f1" }
layer { name: "f2" type: "Flatten" bottom: "t1" top: "f2" }
layer { name: "f3" type: "Flatten" bottom: "t2" top: "f3" }
layer { name: "cat" type: "Concat" bottom: "f1" bottom: "f2" bottom: "f3" top: "cat" }
layer { name: "ip" type: "InnerProduct" bottom: "cat" top: "ip" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`

const dropoutNet = `
name: "dropout"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 8 dim: 512 } shape { dim: 8 } } }
layer { name: "drop" type: "Dropout" bottom: "x" top: "d" dropout_param { dropout_ratio: 0.3 } }
layer { name: "ip" type: "InnerProduct" bottom: "d" top: "ip" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
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
  }, 120_000)

  it("convolutions through the column matrix (stride, padding, dilation, rectangular kernel, two bottoms): loss, input and parameter diffs match the reference backend (relative 1e-4)", async () => {
    const host = new Net(parsePrototxt("NetParameter", columnsNet), { backend: referenceBackend })
    const [x, x2] = [host.blobByName("x")!, host.blobByName("x2")!]
    for (let k = 0; k < x.count; k++) {
      x.data[k] = Math.sin(k * 0.37) * 1.5
      x2.data[k] = Math.cos(k * 0.23)
    }
    host.blobByName("label")!.data.set([1, 3, 0])
    const dev = new ResidentNet(ctx!, host)
    dev.recordClearParamDiffs()
    dev.recordForward()
    const [loss] = await dev.readOutputs()
    dev.recordBackward()
    const diffs = await dev.readParamDiffs()
    const inputDiffs = [await dev.readBlob(x, "diff"), await dev.readBlob(x2, "diff")]
    host.clearParamDiffs()
    host.forwardBackward()
    expect(Math.abs(loss!.value - host.blobByName("loss")!.data[0]!) / host.blobByName("loss")!.data[0]!).toBeLessThan(1e-4)
    expect(relativeError(diffs, hostDiffs(host))).toBeLessThan(1e-4)
    expect(relativeError(inputDiffs[0]!, x.diff.slice(0, x.count))).toBeLessThan(1e-4)
    expect(relativeError(inputDiffs[1]!, x2.diff.slice(0, x2.count))).toBeLessThan(1e-4)
  }, 120_000)

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
    // The per-class top (a non-scalar output) is read whole.
    const perClass = host.blobByName("perclass")!
    expect(Array.from(await dev.readBlob(perClass))).toEqual(Array.from(perClass.data.subarray(0, perClass.count)))
  })


  it("LRN, Sigmoid, TanH in place, Flatten, Reshape, Silence and TEST-phase Dropout match the reference backend (relative 1e-4)", async () => {
    const phase = "TEST"
    const host = new Net(parsePrototxt("NetParameter", moreLayersNet), { backend: referenceBackend, state: { phase } })
    const x = host.blobByName("x")!
    for (let k = 0; k < x.count; k++) x.data[k] = Math.cos(k * 0.53) * 2
    host.blobByName("label")!.data.set([5, 2])
    const dev = new ResidentNet(ctx!, host)
    dev.recordClearParamDiffs()
    dev.recordForward()
    const loss = (await dev.readOutputs())[0]!.value
    dev.recordBackward()
    const diffs = await dev.readParamDiffs()
    const inputDiff = await dev.readBlob(x, "diff")
    host.clearParamDiffs()
    const hostLoss = host.forwardBackward()
    expect(Math.abs(loss - hostLoss) / hostLoss).toBeLessThan(1e-4)
    expect(relativeError(diffs, hostDiffs(host))).toBeLessThan(1e-4)
    expect(relativeError(inputDiff, x.diff.slice(0, x.count))).toBeLessThan(1e-4)
  }, 120_000)

  it("TRAIN-phase Dropout: keeps ≈ 1 − ratio of the values scaled by 1/(1 − ratio), backward applies the same mask, a new mask each iteration", async () => {
    const host = new Net(parsePrototxt("NetParameter", dropoutNet), { backend: referenceBackend, state: { phase: "TRAIN" } })
    const x = host.blobByName("x")!
    for (let k = 0; k < x.count; k++) x.data[k] = 1 + (k % 13)
    host.blobByName("label")!.data.set([0, 1, 2, 3, 0, 1, 2, 3])
    const dev = new ResidentNet(ctx!, host)
    const masks: Float32Array[] = []
    for (let it = 0; it < 2; it++) {
      dev.recordForward()
      dev.recordBackward()
      const d = await dev.readBlob(host.blobByName("d")!)
      const dDiff = await dev.readBlob(host.blobByName("d")!, "diff")
      const xDiff = await dev.readBlob(x, "diff")
      let kept = 0
      for (let k = 0; k < x.count; k++) {
        const keep = d[k] !== 0
        if (keep) {
          kept++
          expect(d[k]).toBeCloseTo(x.data[k]! / 0.7, 4)
        }
        expect(xDiff[k]).toBeCloseTo(keep ? dDiff[k]! / 0.7 : 0, 6)
      }
      expect(kept / x.count).toBeGreaterThan(0.65)
      expect(kept / x.count).toBeLessThan(0.75)
      masks.push(d.map((v) => (v !== 0 ? 1 : 0)))
    }
    expect(masks[0]!.some((m, k) => m !== masks[1]![k])).toBe(true)
  }, 120_000)
})
