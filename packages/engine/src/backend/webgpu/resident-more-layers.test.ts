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

const relativeError = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let diff = 0
  let scale = 0
  for (let k = 0; k < b.length; k++) {
    diff = Math.max(diff, Math.abs(a[k]! - b[k]!))
    scale = Math.max(scale, Math.abs(b[k]!))
  }
  return diff / Math.max(scale, 1e-30)
}

const flat = (net: Net, which: "data" | "diff"): Float32Array => {
  const all = new Float32Array(net.learnableParams().reduce((n, p) => n + p.blob.count, 0))
  let at = 0
  for (const p of net.learnableParams()) {
    all.set(p.blob[which].subarray(0, p.blob.count), at)
    at += p.blob.count
  }
  return all
}

/** Fills those of the named Input tops the net has with smooth values (labels / targets by `values`). */
const fill = (net: Net, values: Readonly<Record<string, (k: number) => number>>) => {
  for (const [name, v] of Object.entries(values)) {
    const b = net.blobByName(name)
    if (b) for (let k = 0; k < b.count; k++) b.data[k] = v(k)
  }
}

/**
 * One forward and backward on the device and on the reference backend from the same parameters and
 * inputs: every output, every parameter diff, the parameters after forward (BatchNorm's running
 * statistics move in TRAIN) and the named inputs' diffs agree to relative 1e-4.
 */
const compare = async (prototxt: string, phase: "TRAIN" | "TEST", inputs: Readonly<Record<string, (k: number) => number>>, inputDiffs: ReadonlyArray<string>) => {
  const host = new Net(parsePrototxt("NetParameter", prototxt), { backend: referenceBackend, state: { phase } })
  fill(host, inputs)
  const dev = new ResidentNet(ctx!, host)
  dev.recordClearParamDiffs()
  dev.recordForward()
  const outputs = await dev.readOutputs()
  dev.recordBackward()
  const diffs = await dev.readParamDiffs()
  const params = await dev.readParams()
  const xDiffs = await Promise.all(inputDiffs.map((n) => dev.readBlob(host.blobByName(n)!, "diff")))
  host.clearParamDiffs()
  host.forwardBackward()
  expect(outputs.length).toBeGreaterThan(0)
  for (const o of outputs) expect(relativeError([o.value], [host.blobByName(o.name)!.data[0]!]), o.name).toBeLessThan(1e-4)
  expect(relativeError(diffs, flat(host, "diff")), "parameter diffs").toBeLessThan(1e-4)
  expect(relativeError(params, flat(host, "data")), "parameters after forward").toBeLessThan(1e-4)
  inputDiffs.forEach((n, k) => expect(relativeError(xDiffs[k]!, host.blobByName(n)!.diff.subarray(0, host.blobByName(n)!.count)), `${n} diff`).toBeLessThan(1e-4))
}

// Slice (uneven points) feeding Concat in another order, Eltwise SUM (coefficients), PROD (stable
// gradient and not), MAX over three, Power (an odd integer power of a negative base), Softmax on axis 1
// out of place and in place, a grouped dilated convolution.
const shapeNet = `
name: "shapes"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 2 dim: 3 dim: 5 dim: 4 } shape { dim: 2 } } }
layer { name: "c1" type: "Convolution" bottom: "x" top: "c1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "slice" type: "Slice" bottom: "c1" top: "s1" top: "s2" top: "s3" slice_param { axis: 1 slice_point: 1 slice_point: 3 } }
layer { name: "concat" type: "Concat" bottom: "s3" bottom: "s1" bottom: "c1" bottom: "s2" top: "cat" }
layer { name: "c2" type: "Convolution" bottom: "x" top: "c2" convolution_param { num_output: 8 group: 1 kernel_size: 3 pad: 2 dilation: 2 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "sum" type: "Eltwise" bottom: "cat" bottom: "c2" top: "e1" eltwise_param { operation: SUM coeff: 0.5 coeff: -1.5 } }
layer { name: "prod" type: "Eltwise" bottom: "e1" bottom: "c2" bottom: "cat" top: "e2" eltwise_param { operation: PROD } }
layer { name: "prod2" type: "Eltwise" bottom: "e1" bottom: "c2" top: "e2b" eltwise_param { operation: PROD stable_prod_grad: false } }
layer { name: "max" type: "Eltwise" bottom: "e2" bottom: "cat" bottom: "e2b" top: "e3" eltwise_param { operation: MAX } }
layer { name: "pow" type: "Power" bottom: "e3" top: "pw" power_param { power: 3 scale: 0.5 shift: -0.2 } }
layer { name: "sm" type: "Softmax" bottom: "pw" top: "sm" }
layer { name: "sm2" type: "Softmax" bottom: "sm" top: "sm" softmax_param { axis: 2 } }
layer { name: "ip" type: "InnerProduct" bottom: "sm" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 2 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`

// Deconvolution (groups, stride, padding, rectangular kernel; a dilated one), BatchNorm, Scale and
// PReLU in place, a Scale by a second bottom, a channel-shared PReLU, and the Euclidean and sigmoid
// cross-entropy losses (an ignored target).
const normNet = `
name: "norm"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "f" top: "t" top: "y" input_param { shape { dim: 3 dim: 4 dim: 4 dim: 3 } shape { dim: 3 dim: 4 } shape { dim: 3 dim: 5 } shape { dim: 3 dim: 5 } } }
layer { name: "deconv" type: "Deconvolution" bottom: "x" top: "d" convolution_param { num_output: 6 group: 2 kernel_h: 3 kernel_w: 2 stride: 2 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "deconv2" type: "Deconvolution" bottom: "d" top: "d2" convolution_param { num_output: 5 kernel_size: 3 dilation: 2 pad: 2 bias_term: false weight_filler { type: "gaussian" std: 0.2 } } }
layer { name: "bn" type: "BatchNorm" bottom: "d2" top: "d2" }
layer { name: "scale" type: "Scale" bottom: "d2" top: "d2" scale_param { bias_term: true filler { type: "gaussian" std: 1 } bias_filler { type: "gaussian" std: 0.2 } } }
layer { name: "prelu" type: "PReLU" bottom: "d2" top: "d2" prelu_param { filler { type: "gaussian" std: 0.3 } } }
layer { name: "pool" type: "Pooling" bottom: "d2" top: "p" pooling_param { pool: AVE kernel_size: 3 stride: 3 } }
layer { name: "bn2" type: "BatchNorm" bottom: "p" top: "pn" }
layer { name: "ipf" type: "InnerProduct" bottom: "pn" top: "g" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "byf" type: "Scale" bottom: "g" bottom: "f" top: "gf" scale_param { axis: 0 } }
layer { name: "prelu2" type: "PReLU" bottom: "gf" top: "gp" prelu_param { channel_shared: true filler { type: "constant" value: 0.2 } } }
layer { name: "ip" type: "InnerProduct" bottom: "gp" top: "ip" inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "sce" type: "SigmoidCrossEntropyLoss" bottom: "ip" bottom: "t" top: "sce" loss_param { ignore_label: 1 normalization: VALID } propagate_down: true propagate_down: false }
layer { name: "euclid" type: "EuclideanLoss" bottom: "ip" bottom: "y" top: "euclid" loss_weight: 0.5 }
`

// WITHIN_CHANNEL LRN after a convolution (so its parameters see the gradient), and STOCHASTIC pooling.
const lrnWithinNet = `
name: "within"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 2 dim: 3 dim: 7 dim: 6 } shape { dim: 2 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 4 kernel_size: 2 weight_filler { type: "gaussian" std: 0.5 } } }
layer { name: "lrn" type: "LRN" bottom: "c" top: "n" lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.5 beta: 0.75 } }
layer { name: "ip" type: "InnerProduct" bottom: "n" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`
const stochasticNet = (force: boolean) => `
name: "stochastic"
${force ? "force_backward: true" : ""}
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 2 dim: 3 dim: 7 dim: 6 } shape { dim: 2 } } }
layer { name: "pool" type: "Pooling" bottom: "x" top: "p" pooling_param { pool: STOCHASTIC kernel_h: 3 kernel_w: 2 stride: 2 } }
layer { name: "ip" type: "InnerProduct" bottom: "p" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`

const inputs = {
  x: (k: number) => Math.sin(k * 0.37) * 1.5,
  label: (k: number) => [1, 2][k]!,
  f: (k: number) => Math.cos(k * 0.9) + 0.2,
  t: (k: number) => (k % 7 === 3 ? 1 : (k % 5) / 4),
  y: (k: number) => Math.cos(k * 0.41)
}

describe.skipIf(ctx === undefined)(`device-resident layers against the reference backend (${ctx?.adapter.description ?? "no adapter"})`, () => {
  it("Slice, Concat, Eltwise SUM / PROD / MAX, Power and Softmax (in place too): outputs, parameter and input diffs (relative 1e-4)", async () => {
    await compare(shapeNet, "TRAIN", inputs, ["x"])
  }, 120_000)

  it("Deconvolution (groups, stride, padding, dilation), BatchNorm with batch statistics, Scale, PReLU (in place and shared), Euclidean and sigmoid cross-entropy losses (relative 1e-4)", async () => {
    await compare(normNet, "TRAIN", inputs, ["x", "f", "y"])
  }, 120_000)

  it("the same net in TEST: BatchNorm with global statistics (relative 1e-4)", async () => {
    await compare(normNet, "TEST", inputs, ["x", "f", "y"])
  }, 120_000)

  it("WITHIN_CHANNEL LRN, and STOCHASTIC pooling in TEST (Σx²/Σx), match the reference backend (relative 1e-4)", async () => {
    await compare(lrnWithinNet, "TRAIN", inputs, ["x"])
    await compare(stochasticNet(false), "TEST", { ...inputs, x: (k: number) => Math.abs(Math.sin(k * 0.37)) }, [])
  }, 120_000)

  it("SoftmaxWithLoss's second top: the probabilities, element for element (relative 1e-4); loss and gradients unchanged", async () => {
    // Caffe asks for a loss_weight per top once a loss layer has two.
    const net = lrnWithinNet.replace('top: "loss" }', 'top: "loss" top: "prob" loss_weight: 1 loss_weight: 0 }')
    await compare(net, "TRAIN", inputs, ["x"])
    const host = new Net(parsePrototxt("NetParameter", net), { backend: referenceBackend, state: { phase: "TRAIN" } })
    fill(host, inputs)
    const dev = new ResidentNet(ctx!, host)
    dev.recordForward()
    const prob = await dev.readBlob(host.blobByName("prob")!, "data")
    host.forward()
    const expected = host.blobByName("prob")!
    expect(prob.length).toBe(expected.count)
    expect(relativeError(prob, expected.data.subarray(0, expected.count))).toBeLessThan(1e-4)
  }, 120_000)

  it("STOCHASTIC pooling in TRAIN: each output is an element of its window, backward routes each top diff to it, new draws each iteration", async () => {
    const host = new Net(parsePrototxt("NetParameter", stochasticNet(true)), { backend: referenceBackend, state: { phase: "TRAIN" } })
    fill(host, { ...inputs, x: (k: number) => 0.05 + Math.abs(Math.sin(k * 0.37)) })
    const x = host.blobByName("x")!
    const p = host.blobByName("p")!
    const dev = new ResidentNet(ctx!, host)
    const draws: Float32Array[] = []
    for (let it = 0; it < 2; it++) {
      dev.recordForward()
      dev.recordBackward()
      const y = await dev.readBlob(p)
      const dy = await dev.readBlob(p, "diff")
      const dx = await dev.readBlob(x, "diff")
      const [, , H, W] = x.shape as [number, number, number, number]
      const [, , PH, PW] = p.shape as [number, number, number, number]
      const expected = new Float32Array(x.count)
      for (let plane = 0; plane < 6; plane++)
        for (let ph = 0; ph < PH; ph++)
          for (let pw = 0; pw < PW; pw++) {
            const out = (plane * PH + ph) * PW + pw
            const cells: number[] = []
            for (let h = ph * 2; h < Math.min(ph * 2 + 3, H); h++) for (let w = pw * 2; w < Math.min(pw * 2 + 2, W); w++) cells.push(plane * H * W + h * W + w)
            const hit = cells.find((c) => x.data[c] === y[out])
            expect(hit, `output ${out} is one of its window's values`).toBeDefined()
            expected[hit!] += dy[out]!
          }
      expect(relativeError(dx, expected)).toBeLessThan(1e-6)
      draws.push(y)
    }
    expect(draws[0]!.some((v, k) => v !== draws[1]![k])).toBe(true)
  }, 120_000)
})
