import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import type { NetParameter } from "../schema/types.js"
import { parsePrototxt } from "../text/prototxt.js"
import { upgradeNetAsNeeded, upgradeNetAsNeededEffect } from "./upgradeNet.js"
import { UpgradeError } from "./UpgradeError.js"
import { upgradeContext } from "./UpgradeOptions.js"
import { upgradeNetDataTransformation, netNeedsDataUpgrade } from "./dataTransform.js"
import { upgradeNetInput } from "./input.js"
import { upgradeNetBatchNorm } from "./batchNorm.js"
import { upgradeV1Net } from "./v1ToV2.js"
import type { PlainMessage } from "../schema/descriptor.js"

const net = (text: string): NetParameter => parsePrototxt("NetParameter", text)
const collect = () => {
  const lines: Array<[string, string]> = []
  return { lines, log: (level: string, message: string) => lines.push([level, message]) }
}
const upgradeErrorOf = (run: () => unknown): UpgradeError => {
  try {
    run()
  } catch (e) {
    expect(e).toBeInstanceOf(UpgradeError)
    return e as UpgradeError
  }
  throw new Error("expected an UpgradeError")
}

const V0_NET = `
name: "v0net"
input: "aux"
input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 4
layers {
  layer { name: "data" type: "data" source: "train_lmdb" meanfile: "mean.binaryproto" batchsize: 256
          cropsize: 227 mirror: true scale: 0.5 rand_skip: 3 }
  top: "data" top: "label"
}
layers { layer { name: "pad1" type: "padding" pad: 2 } bottom: "data" top: "pad1" }
layers {
  layer { name: "conv1" type: "conv" num_output: 96 kernelsize: 11 stride: 4 group: 2 biasterm: false
          weight_filler { type: "gaussian" std: 0.01 } blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0 }
  bottom: "pad1" top: "conv1"
}
layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
layers { layer { name: "pad2" type: "padding" pad: 1 } bottom: "conv1" top: "pad2" }
layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 3 stride: 2 } bottom: "pad2" top: "pool1" }
layers { layer { name: "norm1" type: "lrn" local_size: 5 alpha: 0.0001 beta: 0.75 k: 2 } bottom: "pool1" top: "norm1" }
layers { layer { name: "drop1" type: "dropout" dropout_ratio: 0.4 } bottom: "norm1" top: "norm1" }
layers { layer { name: "fc" type: "innerproduct" num_output: 10 bias_filler { type: "constant" value: 1 } } bottom: "norm1" top: "fc" }
layers { layer { name: "loss" type: "softmax_loss" } bottom: "fc" bottom: "label" top: "loss" }
`

describe("V0 → V1 → V2", () => {
  it("upgrades a V0 net: padding folded, typed params, input fields → Input layer", () => {
    const { lines, log } = collect()
    const up = upgradeNetAsNeeded(net(V0_NET), { file: "v0.prototxt", log })
    expect(up).toEqual({
      name: "v0net",
      layer: [
        { name: "input", type: "Input", top: ["aux"], input_param: { shape: [{ dim: [1, 2, 3, 4] }] } },
        {
          name: "data", type: "Data", top: ["data", "label"],
          data_param: { source: "train_lmdb", batch_size: 256, rand_skip: 3 },
          transform_param: { scale: 0.5, mean_file: "mean.binaryproto", crop_size: 227, mirror: true }
        },
        {
          name: "conv1", type: "Convolution", bottom: ["data"], top: ["conv1"],
          param: [{ lr_mult: 1, decay_mult: 1 }, { lr_mult: 2, decay_mult: 0 }],
          convolution_param: {
            num_output: 96, bias_term: false, weight_filler: { type: "gaussian", std: 0.01 },
            pad: [2], kernel_size: [11], group: 2, stride: [4]
          }
        },
        { name: "relu1", type: "ReLU", bottom: ["conv1"], top: ["conv1"] },
        { name: "pool1", type: "Pooling", bottom: ["conv1"], top: ["pool1"], pooling_param: { pool: "AVE", pad: 1, kernel_size: 3, stride: 2 } },
        { name: "norm1", type: "LRN", bottom: ["pool1"], top: ["norm1"], lrn_param: { local_size: 5, alpha: 0.0001, beta: 0.75, k: 2 } },
        { name: "drop1", type: "Dropout", bottom: ["norm1"], top: ["norm1"], dropout_param: { dropout_ratio: 0.4 } },
        { name: "fc", type: "InnerProduct", bottom: ["norm1"], top: ["fc"], inner_product_param: { num_output: 10, bias_filler: { type: "constant", value: 1 } } },
        { name: "loss", type: "SoftmaxWithLoss", bottom: ["fc", "label"], top: ["loss"] }
      ]
    })
    expect(lines).toContainEqual(["info", "Attempting to upgrade input file specified using deprecated V0LayerParameter: v0.prototxt"])
    expect(lines).toContainEqual(["info", "Successfully upgraded file specified using deprecated V0LayerParameter"])
    expect(lines).toContainEqual(["info", "Attempting to upgrade input file specified using deprecated V1LayerParameter: v0.prototxt"])
    expect(lines).toContainEqual(["info", "Successfully upgraded file specified using deprecated V1LayerParameter"])
    expect(lines).toContainEqual(["info", "Successfully upgraded file specified using deprecated input fields."])
    expect(lines.filter(([level]) => level === "error")).toEqual([])
  })

  it("does not mutate its input", () => {
    const input = net(V0_NET)
    const copy = structuredClone(input)
    upgradeNetAsNeeded(input)
    expect(input).toEqual(copy)
  })

  it("logs (and continues past) V0 fields that do not fit the layer type, as Caffe does", () => {
    const { lines, log } = collect()
    const up = upgradeNetAsNeeded(net(`layers { layer { name: "r" type: "relu" num_output: 3 } }`), { log })
    expect(up.layer).toEqual([{ name: "r", type: "ReLU" }])
    expect(lines).toContainEqual(["error", "Unknown parameter num_output for layer type relu"])
    expect(lines).toContainEqual(["error", "Warning: had one or more problems upgrading V0NetParameter to NetParameter (see above); continuing anyway."])
  })

  it("rejects what Caffe rejects: unknown V0 type, padding into a non-conv layer, unknown bottom", () => {
    const e1 = upgradeErrorOf(() => upgradeNetAsNeeded(net(`layers { layer { name: "x" type: "foo" } }`), { file: "a.prototxt" }))
    expect([e1.file, e1.path, e1.reason]).toEqual(["a.prototxt", "layers[0].layer.type", "Unknown layer name: foo"])
    const e2 = upgradeErrorOf(() =>
      upgradeNetAsNeeded(net(`input: "d" layers { layer { type: "padding" } bottom: "d" top: "p" } layers { layer { type: "relu" } bottom: "p" top: "r" }`))
    )
    expect(e2.path).toBe("layers[1]")
    expect(e2.reason).toContain("non-convolutional / non-pooling layer type relu")
    const e3 = upgradeErrorOf(() => upgradeNetAsNeeded(net(`layers { layer { type: "relu" } bottom: "nowhere" }`)))
    expect(e3.reason).toBe('unknown blob input "nowhere" to layer 0')
  })
})

describe("V1 → V2", () => {
  const V1_NET = `
    name: "v1"
    force_backward: true
    layers {
      name: "ip" type: INNER_PRODUCT bottom: "x" top: "y"
      blobs { shape { dim: 2 } data: 0.5 data: -1 }
      param: "w_shared" param: "b_shared" blob_share_mode: PERMISSIVE
      blobs_lr: 1 blobs_lr: 2 weight_decay: 0.5
      include { phase: TRAIN } exclude { stage: "deploy" }
      inner_product_param { num_output: 2 }
    }
    layers { name: "loss" type: EUCLIDEAN_LOSS bottom: "y" bottom: "t" top: "l" loss_weight: 0.25 loss_param { ignore_label: 3 } }
    layers { name: "nothing" type: NONE relu_param { negative_slope: 0.1 } }
    layers { type: DECONVOLUTION convolution_param { num_output: 1 } }
  `

  it("maps types, per-blob lists to param specs, and copies blobs, rules, loss_weight and typed params", () => {
    const up = upgradeNetAsNeeded(net(V1_NET))
    expect(up).toEqual({
      name: "v1",
      force_backward: true,
      layer: [
        {
          name: "ip", type: "InnerProduct", bottom: ["x"], top: ["y"],
          blobs: [{ shape: { dim: [2] }, data: new Float32Array([0.5, -1]) }],
          param: [
            { name: "w_shared", share_mode: "PERMISSIVE", lr_mult: 1, decay_mult: 0.5 },
            { name: "b_shared", lr_mult: 2 }
          ],
          include: [{ phase: "TRAIN" }], exclude: [{ stage: ["deploy"] }],
          inner_product_param: { num_output: 2 }
        },
        { name: "loss", type: "EuclideanLoss", bottom: ["y", "t"], top: ["l"], loss_weight: [0.25], loss_param: { ignore_label: 3 } },
        { name: "nothing", type: "", relu_param: { negative_slope: 0.1 } },
        { type: "Deconvolution", convolution_param: { num_output: 1 } }
      ]
    })
  })

  it("maps every V1 enum type to a registered V2 type name", () => {
    const names = [
      "ABSVAL", "ACCURACY", "ARGMAX", "BNLL", "CONCAT", "CONTRASTIVE_LOSS", "CONVOLUTION", "DATA", "DECONVOLUTION",
      "DROPOUT", "DUMMY_DATA", "EUCLIDEAN_LOSS", "ELTWISE", "EXP", "FLATTEN", "HDF5_DATA", "HDF5_OUTPUT", "HINGE_LOSS",
      "IM2COL", "IMAGE_DATA", "INFOGAIN_LOSS", "INNER_PRODUCT", "LRN", "MEMORY_DATA", "MULTINOMIAL_LOGISTIC_LOSS", "MVN",
      "POOLING", "POWER", "RELU", "SIGMOID", "SIGMOID_CROSS_ENTROPY_LOSS", "SILENCE", "SOFTMAX", "SOFTMAX_LOSS", "SPLIT",
      "SLICE", "TANH", "WINDOW_DATA", "THRESHOLD"
    ]
    const up = upgradeNetAsNeeded(net(names.map((t) => `layers { type: ${t} }`).join("\n")))
    expect(up.layer!.map((l) => l.type)).toEqual([
      "AbsVal", "Accuracy", "ArgMax", "BNLL", "Concat", "ContrastiveLoss", "Convolution", "Data", "Deconvolution",
      "Dropout", "DummyData", "EuclideanLoss", "Eltwise", "Exp", "Flatten", "HDF5Data", "HDF5Output", "HingeLoss",
      "Im2col", "ImageData", "InfogainLoss", "InnerProduct", "LRN", "MemoryData", "MultinomialLogisticLoss", "MVN",
      "Pooling", "Power", "ReLU", "Sigmoid", "SigmoidCrossEntropyLoss", "Silence", "Softmax", "SoftmaxWithLoss", "Split",
      "Slice", "TanH", "WindowData", "Threshold"
    ])
  })

  it("refuses a net with both layer and layers", () => {
    const e = upgradeErrorOf(() => upgradeNetAsNeeded(net(`layer { name: "a" type: "ReLU" } layers { name: "b" type: RELU }`), { file: "both.prototxt" }))
    expect(e.path).toBe("layers")
    expect(e.message).toMatch(/^both\.prototxt: layers: Refusing to upgrade inconsistent NetParameter input/)
    const failed = Effect.runSync(Effect.either(upgradeNetAsNeededEffect(net(`layer { } layers { }`))))
    expect(Either.isLeft(failed) && failed.left._tag).toBe("UpgradeError")
  })

  it("logs a V1 layer that still wraps a V0 layer as a problem", () => {
    const { lines, log } = collect()
    const r = upgradeV1Net({ layers: [{ name: "x", type: "RELU", layer: { name: "old" } }] }, upgradeContext({ log }))
    expect(r.fullyCompatible).toBe(false)
    expect(r.net).toEqual({ layer: [{ name: "x", type: "ReLU" }] })
    expect(lines).toEqual([["error", "Input NetParameter has V0 layer -- ignoring."], ["error", "Upgrade of input layer 0 failed."]])
  })
})

describe("data transformation fields", () => {
  it("moves scale/mean_file/crop_size/mirror of DATA, IMAGE_DATA, WINDOW_DATA layers into transform_param", () => {
    const v1 = net(`
      layers { name: "d" type: DATA data_param { source: "s" scale: 0.5 mean_file: "m" crop_size: 3 mirror: true batch_size: 2 } }
      layers { name: "i" type: IMAGE_DATA image_data_param { source: "l" mirror: false } transform_param { mean_value: 1 } }
      layers { name: "w" type: WINDOW_DATA window_data_param { crop_size: 5 } }
      layers { name: "r" type: RELU }`)
    expect(netNeedsDataUpgrade(v1 as PlainMessage)).toBe(true)
    const up = upgradeNetDataTransformation(v1 as PlainMessage)
    expect(up["layers"]).toEqual([
      { name: "d", type: "DATA", data_param: { source: "s", batch_size: 2 }, transform_param: { scale: 0.5, mean_file: "m", crop_size: 3, mirror: true } },
      { name: "i", type: "IMAGE_DATA", image_data_param: { source: "l" }, transform_param: { mean_value: [1], mirror: false } },
      { name: "w", type: "WINDOW_DATA", window_data_param: {}, transform_param: { crop_size: 5 } },
      { name: "r", type: "RELU" }
    ])
    expect(netNeedsDataUpgrade({ layers: [{ type: "DATA", data_param: { source: "s" } }] })).toBe(false)
    const full = upgradeNetAsNeeded(v1)
    expect(full.layer![0]).toEqual({ name: "d", type: "Data", data_param: { source: "s", batch_size: 2 }, transform_param: { scale: 0.5, mean_file: "m", crop_size: 3, mirror: true } })
  })
})

describe("input fields → Input layer", () => {
  it("uses input_dim in groups of four, placed before all layers", () => {
    const up = upgradeNetAsNeeded(net(`input: "a" input: "b" input_dim: [1, 3, 8, 8, 1, 1, 1, 2] layer { name: "r" type: "ReLU" bottom: "a" top: "a" }`))
    expect(up.layer).toEqual([
      { name: "input", type: "Input", top: ["a", "b"], input_param: { shape: [{ dim: [1, 3, 8, 8] }, { dim: [1, 1, 1, 2] }] } },
      { name: "r", type: "ReLU", bottom: ["a"], top: ["a"] }
    ])
    expect(up.input_dim).toBeUndefined()
  })

  it("uses input_shape when given", () => {
    const up = upgradeNetAsNeeded(net(`input: "a" input_shape { dim: 2 dim: 5 }`))
    expect(up).toEqual({ layer: [{ name: "input", type: "Input", top: ["a"], input_param: { shape: [{ dim: [2, 5] }] } }] })
  })

  it("drops an input without dims (old caffemodels)", () => {
    expect(upgradeNetInput({ input: ["data"], layer: [{ name: "x" }] }, upgradeContext())).toEqual({ layer: [{ name: "x" }] })
  })

  it("rejects too few dims", () => {
    const e = upgradeErrorOf(() => upgradeNetAsNeeded(net(`input: "a" input: "b" input_dim: [1, 2, 3, 4, 5]`), { file: "in.prototxt" }))
    expect([e.path, e.reason]).toEqual(["input_dim", 'input "b" (#1) needs input_dim 4..7 (5 given)'])
  })
})

describe("BatchNorm params", () => {
  it("zeroes lr_mult and decay_mult only on BatchNorm layers with exactly three param specs", () => {
    const up = upgradeNetBatchNorm({
      layer: [
        { type: "BatchNorm", param: [{ lr_mult: 1, name: "a" }, {}, { decay_mult: 3 }] },
        { type: "BatchNorm", param: [{ lr_mult: 1 }] },
        { type: "Scale", param: [{}, {}, {}] }
      ]
    })
    expect(up["layer"]).toEqual([
      { type: "BatchNorm", param: [{ lr_mult: 0, decay_mult: 0, name: "a" }, { lr_mult: 0, decay_mult: 0 }, { lr_mult: 0, decay_mult: 0 }] },
      { type: "BatchNorm", param: [{ lr_mult: 1 }] },
      { type: "Scale", param: [{}, {}, {}] }
    ])
  })

  it("leaves an up-to-date net unchanged and logs nothing", () => {
    const { lines, log } = collect()
    const n = net(`name: "x" layer { name: "r" type: "ReLU" }`)
    expect(upgradeNetAsNeeded(n, { log })).toEqual(n)
    expect(lines).toEqual([])
  })
})

describe("blob sharing", () => {
  it("moves weights of a V1 caffemodel-style net without copying them", () => {
    const data = new Float32Array(1000)
    const input = { layers: [{ name: "ip", type: "INNER_PRODUCT", blobs: [{ data }] }] }
    const up = upgradeNetAsNeeded(input as NetParameter)
    expect(up.layer![0]!.blobs![0]!.data).toBe(data)
    expect(input.layers[0]!.blobs[0]!.data).toBe(data)
  })
})
