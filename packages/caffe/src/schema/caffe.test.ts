import { describe, expect, it } from "vitest"
import { caffeSchema, enumName, enumNumber, fieldByName, fieldByNumber, messageType } from "./caffe.js"
import { fieldDefault, getOr } from "./defaults.js"
import type { LRNParameter } from "./types.js"

describe("caffe schema descriptor", () => {
  it("resolves every field type to a known message, enum or scalar", () => {
    for (const m of caffeSchema.messages.values()) {
      for (const f of m.fields) {
        if (f.type.kind === "message") expect(caffeSchema.messages.has(f.type.message)).toBe(true)
        if (f.type.kind === "enum") expect(caffeSchema.enums.has(f.type.enum)).toBe(true)
        if (f.default !== undefined && f.type.kind === "enum") {
          expect(enumNumber(f.type.enum, f.default as string)).toBeDefined()
        }
      }
    }
  })

  it("has LayerParameter typed params 100–148 with the facts-sheet numbers", () => {
    const expected: Record<number, string> = {
      100: "transform_param", 101: "loss_param", 102: "accuracy_param", 103: "argmax_param",
      104: "concat_param", 105: "contrastive_loss_param", 106: "convolution_param", 107: "data_param",
      108: "dropout_param", 109: "dummy_data_param", 110: "eltwise_param", 111: "exp_param",
      112: "hdf5_data_param", 113: "hdf5_output_param", 114: "hinge_loss_param", 115: "image_data_param",
      116: "infogain_loss_param", 117: "inner_product_param", 118: "lrn_param", 119: "memory_data_param",
      120: "mvn_param", 121: "pooling_param", 122: "power_param", 123: "relu_param", 124: "sigmoid_param",
      125: "softmax_param", 126: "slice_param", 127: "tanh_param", 128: "threshold_param",
      129: "window_data_param", 130: "python_param", 131: "prelu_param", 132: "spp_param",
      133: "reshape_param", 134: "log_param", 135: "flatten_param", 136: "reduction_param",
      137: "embed_param", 138: "tile_param", 139: "batch_norm_param", 140: "elu_param", 141: "bias_param",
      142: "scale_param", 143: "input_param", 144: "crop_param", 145: "parameter_param",
      146: "recurrent_param", 147: "swish_param", 148: "clip_param"
    }
    for (let n = 100; n <= 148; n++) {
      const f = fieldByNumber("LayerParameter", n)
      expect(f?.name).toBe(expected[n])
      expect(f?.type.kind).toBe("message")
    }
  })

  it("has the V1 typed-param numbers of §1.2", () => {
    const v1: Record<string, number> = {
      accuracy_param: 27, argmax_param: 23, concat_param: 9, contrastive_loss_param: 40,
      convolution_param: 10, data_param: 11, dropout_param: 12, dummy_data_param: 26, eltwise_param: 24,
      exp_param: 41, hdf5_data_param: 13, hdf5_output_param: 14, hinge_loss_param: 29,
      image_data_param: 15, infogain_loss_param: 16, inner_product_param: 17, lrn_param: 18,
      memory_data_param: 22, mvn_param: 34, pooling_param: 19, power_param: 21, relu_param: 30,
      sigmoid_param: 38, softmax_param: 39, slice_param: 31, tanh_param: 37, threshold_param: 25,
      window_data_param: 20, transform_param: 36, loss_param: 42, blobs_lr: 7, weight_decay: 8,
      param: 1001, blob_share_mode: 1002, blobs: 6, include: 32, exclude: 33, loss_weight: 35, layer: 1
    }
    for (const [name, n] of Object.entries(v1)) expect(fieldByName("V1LayerParameter", name)?.number).toBe(n)
    expect(enumNumber("V1LayerParameter.LayerType", "SOFTMAX_LOSS")).toBe(21)
    expect(enumName("V1LayerParameter.LayerType", 4)).toBe("CONVOLUTION")
  })

  it("declares the packing of §0", () => {
    const packed = (m: string, f: string) => fieldByName(m, f)?.packed
    expect(packed("BlobShape", "dim")).toBe(true)
    expect(packed("BlobProto", "data")).toBe(true)
    expect(packed("BlobProto", "double_diff")).toBe(true)
    for (const [m, f] of [
      ["Datum", "float_data"], ["LayerParameter", "loss_weight"], ["ConvolutionParameter", "pad"],
      ["ConvolutionParameter", "kernel_size"], ["ConvolutionParameter", "stride"],
      ["ConvolutionParameter", "dilation"], ["TransformationParameter", "mean_value"],
      ["SolverParameter", "stepvalue"], ["SolverParameter", "test_iter"], ["NetParameter", "input_dim"]
    ] as const) {
      expect(fieldByName(m, f)?.repeated).toBe(true)
      expect(packed(m, f)).toBe(false)
    }
    expect(fieldByNumber("NetParameter", 100)?.name).toBe("layer")
  })

  it("throws on unknown message names", () => {
    expect(() => messageType("NoSuchMessage")).toThrow(/unknown message/)
  })
})

describe("defaults", () => {
  it("gives declared defaults, float32-rounded for float fields", () => {
    expect(fieldDefault("LRNParameter", "local_size")).toBe(5)
    expect(fieldDefault("LRNParameter", "beta")).toBe(Math.fround(0.75))
    expect(fieldDefault("BatchNormParameter", "eps")).toBe(Math.fround(1e-5))
    expect(fieldDefault("DataParameter", "backend")).toBe("LEVELDB")
    expect(fieldDefault("SolverParameter", "solver_mode")).toBe("GPU")
    expect(fieldDefault("SolverParameter", "random_seed")).toBe(-1)
    expect(fieldDefault("SolverParameter", "type")).toBe("SGD")
    expect(fieldDefault("NetState", "phase")).toBe("TEST")
    expect(fieldDefault("NetStateRule", "phase")).toBe("TRAIN") // zero value: first enum value
    expect(fieldDefault("HingeLossParameter", "norm")).toBe("L1")
    expect(fieldDefault("ConvolutionParameter", "stride")).toBe(1) // per-element default
    expect(fieldDefault("SolverParameter", "base_lr")).toBe(0)
    expect(fieldDefault("FillerParameter", "type")).toBe("constant")
    expect(() => fieldDefault("LRNParameter", "nope")).toThrow()
  })

  it("getOr returns the present value, else the default, else [] for repeated", () => {
    const lrn: LRNParameter = { local_size: 3 }
    const localSize: number = getOr(lrn, "LRNParameter", "local_size")
    expect(localSize).toBe(3)
    expect(getOr(lrn, "LRNParameter", "alpha")).toBe(1)
    expect(getOr(undefined, "LRNParameter", "norm_region")).toBe("ACROSS_CHANNELS")
    expect(getOr({}, "ConvolutionParameter", "pad")).toEqual([])
    expect(getOr({}, "BlobProto", "data")).toBeInstanceOf(Float32Array)
    expect(getOr({}, "LayerParameter", "convolution_param")).toEqual({})
  })
})
