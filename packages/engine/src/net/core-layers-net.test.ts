import { parsePrototxt } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Rng } from "../core/rng.js"
import { Net } from "./net.js"

/**
 * The core layers inside one net: the caffe package's shape inference and the layers must agree on every
 * top and parameter shape, and backward through the whole net (auto-inserted Splits, in-place ReLU,
 * grouped/dilated convolution, deconvolution, both pooling kinds, Concat, Eltwise, Flatten,
 * InnerProduct with axis) must match finite differences of the net's loss. (No Accuracy here: with
 * force_backward Caffe runs its backward, which is not implemented — an error, here as in Caffe.)
 */
const ZOO = `
name: "core-zoo"
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 2 dim: 4 dim: 8 dim: 6 } shape { dim: 2 } } }
layer { name: "conv_g" type: "Convolution" bottom: "x" top: "cg"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 group: 2 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "conv_d" type: "Convolution" bottom: "x" top: "cd"
        convolution_param { num_output: 2 kernel_size: 3 dilation: 2 pad: 2 stride: 1 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "relu" type: "ReLU" bottom: "cg" top: "cg" relu_param { negative_slope: 0.3 } }
layer { name: "cat" type: "Concat" bottom: "cg" bottom: "cd" top: "cat" }
layer { name: "pool_a" type: "Pooling" bottom: "cat" top: "pa" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "deconv" type: "Deconvolution" bottom: "pa" top: "up"
        convolution_param { num_output: 6 kernel_size: 2 stride: 2 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "sum" type: "Eltwise" bottom: "up" bottom: "cat" top: "s" eltwise_param { coeff: 0.5 coeff: -1 } }
layer { name: "prod" type: "Eltwise" bottom: "s" bottom: "cat" top: "p" eltwise_param { operation: PROD } }
layer { name: "pool_m" type: "Pooling" bottom: "p" top: "pm" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "flat" type: "Flatten" bottom: "pm" top: "f" flatten_param { axis: 2 } }
layer { name: "ip_axis" type: "InnerProduct" bottom: "f" top: "h" inner_product_param { num_output: 3 axis: 2 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "h" top: "y" inner_product_param { num_output: 5 transpose: true weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "sm" type: "Softmax" bottom: "y" top: "prob" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "y" bottom: "label" top: "loss" }
layer { name: "drop" type: "Dropout" bottom: "prob" top: "dropped" }
layer { name: "l2" type: "InnerProduct" bottom: "dropped" top: "l2" loss_weight: 0.5 inner_product_param { num_output: 1 weight_filler { type: "gaussian" std: 0.3 } } }
`

describe("core layers inside a Net", () => {
  it("the graph's inferred shapes equal the layers' shapes, and backward matches finite differences", () => {
    // TEST phase keeps Dropout deterministic (identity); force_backward makes every layer run backward.
    const net = new Net(parsePrototxt("NetParameter", ZOO), { state: { phase: "TEST" } })
    const rng = new Rng(7)
    const x = net.blobByName("x")!
    for (let i = 0; i < x.count; i++) x.data[i] = rng.uniform(-1, 1)
    net.blobByName("label")!.data.set([1, 4])
    expect(Number.isFinite(net.forward())).toBe(true)
    expect(net.outputBlobs().map((o) => o.name)).toEqual(["l2", "loss"])

    net.graph.layers.forEach((gl, i) => {
      gl.top.forEach((name, j) => {
        const inferred = gl.topShapes[j]
        if (inferred) expect([gl.name, name, net.blobByName(name)!.shape]).toEqual([gl.name, name, [...inferred]])
      })
      gl.paramShapes.forEach((s, k) => {
        if (s) expect([gl.name, k, net.layers[i]!.blobs[k]!.shape]).toEqual([gl.name, k, [...s]])
      })
    })

    net.clearParamDiffs()
    net.forwardBackward()
    // Small steps: a bias moves a whole channel, and 1e-2 already crosses ReLU / max-pool kinks somewhere.
    const step = 1e-3
    const check = (data: Float32Array, analytic: Float32Array, n: number, what: string) => {
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 10))) {
        const v = data[i]!
        data[i] = v + step
        const plus = net.forward()
        data[i] = v - step
        const minus = net.forward()
        data[i] = v
        const numeric = (plus - minus) / (2 * step)
        if (Math.abs(analytic[i]! - numeric) > 3e-3 * Math.max(1, Math.abs(numeric))) expect.fail(`${what}[${i}]: analytic ${analytic[i]} numeric ${numeric}`)
      }
    }
    const params = net.learnableParams().map((p) => ({ p, d: p.blob.diff.slice(0, p.blob.count) }))
    const xd = x.diff.slice(0, x.count)
    for (const { p, d } of params) check(p.blob.data, d, p.blob.count, `${p.layerName}.${net.learnableParams().indexOf(p)}`)
    check(x.data, xd, x.count, "x")
  })
})
