import { parsePrototxt } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Rng } from "../core/rng.js"
import { Net } from "../net/net.js"

/**
 * The extra layers inside whole nets: the net graph's shape inference (packages/caffe) and the layers
 * must agree on every top and parameter shape, and backward through the net (in-place Scale, PReLU
 * and ELU included) must match finite differences of the net's loss. The net is kept smooth so the
 * finite differences are exact enough: PReLU slopes 1, BNLL instead of AbsVal, hinge margins never
 * reached, a contrastive margin never reached (each layer's kinks are covered by its own tests).
 */
const ZOO = `
name: "zoo"
layer { name: "in" type: "Input" top: "x" top: "label" top: "sim" top: "idx" top: "sel" top: "ref" top: "abs_target"
        input_param { shape { dim: 4 dim: 3 dim: 6 dim: 5 } shape { dim: 4 } shape { dim: 4 dim: 1 dim: 1 dim: 1 } shape { dim: 3 }
                      shape { dim: 3 } shape { dim: 1 dim: 1 dim: 1 dim: 4 } shape { dim: 3 dim: 2 dim: 6 dim: 4 } } }
layer { name: "bn" type: "BatchNorm" bottom: "x" top: "bn" }
layer { name: "sc" type: "Scale" bottom: "bn" top: "bn" scale_param { bias_term: true filler { type: "uniform" min: 0.5 max: 1.5 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "pr" type: "PReLU" bottom: "bn" top: "bn" prelu_param { filler { type: "constant" value: 1 } } }
layer { name: "lrn" type: "LRN" bottom: "bn" top: "lrn" lrn_param { local_size: 3 } }
layer { name: "lrnw" type: "LRN" bottom: "lrn" top: "lrnw" lrn_param { local_size: 3 norm_region: WITHIN_CHANNEL } }
layer { name: "elu" type: "ELU" bottom: "lrnw" top: "lrnw" }
layer { name: "sw" type: "Swish" bottom: "lrnw" top: "sw" }
layer { name: "mvn" type: "MVN" bottom: "sw" top: "mvn" }
layer { name: "crop" type: "Crop" bottom: "mvn" bottom: "ref" top: "crop" crop_param { axis: 3 offset: 1 } }
layer { name: "slice" type: "Slice" bottom: "crop" top: "s1" top: "s2" slice_param { axis: 1 slice_point: 1 } }
layer { name: "tile" type: "Tile" bottom: "s1" top: "tile" tile_param { axis: 1 tiles: 2 } }
layer { name: "spp" type: "SPP" bottom: "tile" top: "spp" spp_param { pyramid_height: 2 pool: AVE } }
layer { name: "im2col" type: "Im2col" bottom: "s2" top: "cols" convolution_param { kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "rs" type: "Reshape" bottom: "cols" top: "flat" reshape_param { shape { dim: 0 dim: -1 } } }
layer { name: "bias" type: "Bias" bottom: "flat" top: "flat2" bias_param { axis: 1 filler { type: "gaussian" std: 0.1 } } }
layer { name: "th" type: "TanH" bottom: "flat2" top: "th" }
layer { name: "sig" type: "Sigmoid" bottom: "spp" top: "sig" }
layer { name: "red" type: "Reduction" bottom: "th" top: "red" reduction_param { axis: 1 operation: SUMSQ } }
layer { name: "pow" type: "Power" bottom: "red" top: "pw" power_param { power: 2 scale: 0.1 shift: 1 } }
layer { name: "ex" type: "Exp" bottom: "pw" top: "ex" exp_param { scale: -0.5 } }
layer { name: "lg" type: "Log" bottom: "ex" top: "lg" log_param { shift: 1 } }
layer { name: "rs2" type: "Reshape" bottom: "lg" top: "lg4" reshape_param { shape { dim: 0 dim: 1 dim: 1 dim: 1 } } }
layer { name: "rs3" type: "Reshape" bottom: "sig" top: "sig4" reshape_param { shape { dim: 0 dim: -1 dim: 1 dim: 1 } } }
layer { name: "sl2" type: "Slice" bottom: "sig4" top: "fa" top: "fb" slice_param { axis: 1 } }
layer { name: "contrast" type: "ContrastiveLoss" bottom: "fa" bottom: "fb" bottom: "sim" top: "closs" contrastive_loss_param { margin: 10 } }
layer { name: "eu" type: "EuclideanLoss" bottom: "lg4" bottom: "sim" top: "eloss" loss_weight: 0.5 }
layer { name: "re" type: "BatchReindex" bottom: "s2" bottom: "idx" top: "re" }
layer { name: "flt" type: "Filter" bottom: "re" bottom: "sel" top: "flt" }
layer { name: "abs" type: "BNLL" bottom: "flt" top: "abs" }
layer { name: "sce" type: "SigmoidCrossEntropyLoss" bottom: "abs" bottom: "abs_target" top: "sloss" }
layer { name: "hinge" type: "HingeLoss" bottom: "sig" bottom: "label" top: "hloss" loss_weight: 0.25 }
layer { name: "am" type: "ArgMax" bottom: "spp" top: "am" argmax_param { top_k: 2 } }
layer { name: "silence" type: "Silence" bottom: "am" }
layer { name: "h" type: "Input" top: "H" input_param { shape { dim: 3 dim: 3 } } }
layer { name: "emb" type: "Embed" bottom: "label" top: "emb" embed_param { input_dim: 6 num_output: 3 weight_filler { type: "gaussian" } bias_filler { type: "uniform" } } }
layer { name: "info" type: "InfogainLoss" bottom: "emb" bottom: "sim" bottom: "H" top: "iloss" }
layer { name: "esig" type: "Sigmoid" bottom: "emb" top: "esig" }
layer { name: "mlog" type: "MultinomialLogisticLoss" bottom: "esig" bottom: "sim" top: "mloss" loss_weight: 0.5 }
`

const STEP = 1e-2

describe("extra layers inside a Net", () => {
  it("the graph's inferred shapes equal the layers' shapes, and backward matches finite differences", () => {
    const net = new Net(parsePrototxt("NetParameter", ZOO), { state: { phase: "TRAIN" } })
    const rng = new Rng(50)
    const fill = (name: string, f: (i: number) => number) => {
      const b = net.blobByName(name)!
      for (let i = 0; i < b.count; i++) b.data[i] = f(i)
    }
    fill("x", () => rng.uniform(-1, 1))
    fill("label", (i) => [0, 5, 2, 3][i]!)
    fill("sim", (i) => i % 2)
    fill("idx", (i) => [2, 0, 3][i]!)
    fill("sel", () => 1)
    fill("abs_target", () => rng.uniform(0, 1))
    fill("H", () => rng.uniform(0, 1))
    const loss = net.forward()
    expect(Number.isFinite(loss)).toBe(true)

    // Shapes: every top and parameter the graph inferred equals what the layer produced.
    net.graph.layers.forEach((gl, i) => {
      gl.top.forEach((name, j) => {
        const inferred = gl.topShapes[j]
        if (inferred) expect([gl.name, name, net.blobByName(name)!.shape]).toEqual([gl.name, name, [...inferred]])
      })
      gl.paramShapes.forEach((s, k) => {
        if (s) expect([gl.name, k, net.layers[i]!.blobs[k]!.shape]).toEqual([gl.name, k, [...s]])
      })
    })

    // Backward through the whole net vs central differences of the net loss, for every learned parameter
    // (Scale, PReLU and Bias sit upstream of almost every other layer). ArgMax, feeding only Silence,
    // is pruned from backward as in Caffe.
    for (const p of net.learnableParams()) p.blob.zeroDiff()
    net.backward()
    const check = (data: Float32Array, diff: Float32Array, n: number, what: string) => {
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 12))) {
        const v = data[i]!
        data[i] = v + STEP
        const plus = net.forward()
        data[i] = v - STEP
        const minus = net.forward()
        data[i] = v
        const numeric = (plus - minus) / (2 * STEP)
        if (Math.abs(diff[i]! - numeric) > 2e-3 * Math.max(1, Math.abs(numeric))) expect.fail(`${what}[${i}]: analytic ${diff[i]} numeric ${numeric}`)
      }
    }
    const paramDiffs = net.learnableParams().map((p) => Float32Array.from(p.blob.diff.subarray(0, p.blob.count)))
    net.learnableParams().forEach((p, k) => {
      if (p.lrMult !== 0) check(p.blob.data, paramDiffs[k]!, p.blob.count, `${p.layerName}.param`)
    })
  })
})
