import { describe, expect, it } from "vitest"
import type { LayerParameter, NetParameter } from "../../schema/types.js"
import { buildNetGraph } from "../net-graph.js"
import { convOutputSize, deconvOutputSize } from "./convolution.js"
import { pooledSize } from "./pooling.js"
import { reshapeShape } from "./structural.js"

const run = (dims: number[], ...layers: LayerParameter[]) => {
  const net: NetParameter = { layer: [{ name: "in", type: "Input", top: ["in"], input_param: { shape: [{ dim: dims }] } }, ...layers] }
  return buildNetGraph(net)
}

describe("pooling size", () => {
  it("CEIL rounding: 32→16 (k3 s2), 55→27, 112→56, 13→6, 14→4 (k5 s3)", () => {
    expect(pooledSize(32, 3, 2, 0)).toBe(16)
    expect(pooledSize(55, 3, 2, 0)).toBe(27)
    expect(pooledSize(112, 3, 2, 0)).toBe(56)
    expect(pooledSize(13, 3, 2, 0)).toBe(6)
    expect(pooledSize(14, 5, 3, 0)).toBe(4)
    expect(pooledSize(14, 5, 3, 0, "FLOOR")).toBe(4)
    expect(pooledSize(16, 3, 2, 0, "FLOOR")).toBe(7)
    expect(pooledSize(16, 3, 2, 0, "CEIL")).toBe(8)
  })

  it("pad clip: the last window must start inside the image or the leading pad", () => {
    // ceil((4 + 2 − 2) / 3) + 1 = 3, but window 2 would start at 2·3 − 1 = 5 ≥ 4: clipped to 2.
    expect(pooledSize(4, 2, 3, 1)).toBe(2)
    // Without the pad there is no clip (Caffe only checks when a pad is non-zero).
    expect(pooledSize(4, 1, 3, 0)).toBe(2)
    // 3×3 s2 p1 on 7 → ceil(6/2)+1 = 4; (4−1)·2 = 6 < 8: kept.
    expect(pooledSize(7, 3, 2, 1)).toBe(4)
    // A zero pad on one axis is still clipped when the other axis is padded.
    // ceil((5 − 1)/3) + 1 = 3; (3 − 1)·3 = 6 ≥ 5 + 0: clipped to 2 only when some pad is non-zero.
    expect(pooledSize(5, 1, 3, 0, "CEIL", true)).toBe(2)
    expect(pooledSize(5, 1, 3, 0, "CEIL", false)).toBe(3)
  })

  it("pooling layers: global pooling, pad_h/pad_w, pad >= kernel and STOCHASTIC padding are rejected", () => {
    expect(run([2, 3, 7, 5], { name: "p", type: "Pooling", bottom: ["in"], top: ["p"], pooling_param: { global_pooling: true, pool: "AVE" } }).blobs.get("p")).toEqual([2, 3, 1, 1])
    expect(
      run([1, 1, 4, 6], { name: "p", type: "Pooling", bottom: ["in"], top: ["p"], pooling_param: { kernel_h: 2, kernel_w: 3, stride_h: 2, stride_w: 3, pad_h: 1, pad_w: 0 } }).blobs.get("p")
    ).toEqual([1, 1, 3, 2])
    expect(() => run([1, 1, 8, 8], { name: "p", type: "Pooling", bottom: ["in"], top: ["p"], pooling_param: { kernel_size: 2, pad: 2 } })).toThrow(/layer 'p' \(Pooling\): pad \(2,2\) must be smaller/)
    expect(() => run([1, 1, 8, 8], { name: "p", type: "Pooling", bottom: ["in"], top: ["p"], pooling_param: { kernel_size: 3, pad: 1, pool: "STOCHASTIC" } })).toThrow(/padding implemented only/)
    expect(() => run([1, 8, 8], { name: "p", type: "Pooling", bottom: ["in"], top: ["p"], pooling_param: { kernel_size: 3 } })).toThrow(/blob 'in': pooling input must have 4 axes/)
  })
})

describe("convolution geometry", () => {
  it("formulas", () => {
    expect(convOutputSize(28, 5, 1, 0)).toBe(24)
    expect(convOutputSize(227, 11, 4, 0)).toBe(55)
    expect(convOutputSize(224, 7, 2, 3)).toBe(112)
    expect(convOutputSize(10, 3, 1, 0, 2)).toBe(6)
    expect(deconvOutputSize(4, 4, 2, 1)).toBe(8)
  })

  it("per-axis kernel/stride/pad, _h/_w forms, dilation, N-D, axis", () => {
    const g = run(
      [2, 3, 10, 12],
      { name: "a", type: "Convolution", bottom: ["in"], top: ["a"], convolution_param: { num_output: 4, kernel_size: [3, 5], stride: [1, 2], pad: [1], dilation: [2] } },
      { name: "b", type: "Convolution", bottom: ["a"], top: ["b"], convolution_param: { num_output: 2, kernel_h: 3, kernel_w: 1, pad_h: 1 } }
    )
    // a: h = (10 + 2 − 5)/1 + 1 = 8, w = (12 + 2 − 9)/2 + 1 = 3
    expect(g.blobs.get("a")).toEqual([2, 4, 8, 3])
    expect(g.layers[1]!.paramShapes).toEqual([[4, 3, 3, 5], [4]])
    expect(g.blobs.get("b")).toEqual([2, 2, 8, 3])
    const nd = run([1, 2, 6, 6, 6], { name: "c", type: "Convolution", bottom: ["in"], top: ["c"], convolution_param: { num_output: 3, kernel_size: [3], bias_term: false } })
    expect(nd.blobs.get("c")).toEqual([1, 3, 4, 4, 4])
    expect(nd.layers[1]!.paramShapes).toEqual([[3, 2, 3, 3, 3]])
    const axis2 = run([5, 1, 2, 9], { name: "c", type: "Convolution", bottom: ["in"], top: ["c"], convolution_param: { num_output: 3, kernel_size: [2], axis: 2 } })
    expect(axis2.blobs.get("c")).toEqual([5, 1, 3, 8])
    expect(() =>
      run([1, 3, 8, 8], { name: "c", type: "Convolution", bottom: ["in"], top: ["c"], convolution_param: { num_output: 4, kernel_size: [3], group: 2 } })
    ).toThrow(/input channels 3 are not a multiple of group 2/)
    expect(() =>
      run([1, 3, 8, 8], { name: "c", type: "Convolution", bottom: ["in"], top: ["c"], convolution_param: { num_output: 4, kernel_size: [3], kernel_h: 3, kernel_w: 3 } })
    ).toThrow(/not both/)
  })
})

describe("structural layers", () => {
  it("Reshape: 0 copies, -1 infers, axis / num_axes", () => {
    expect(reshapeShape([2, 3, 4, 5], [0, -1], 0, -1, "x")).toEqual([2, 60])
    expect(reshapeShape([2, 3, 4, 5], [-1, 2], 1, 2, "x")).toEqual([2, 6, 2, 5])
    // num_axes 0 inserts axes: at axis 1, or at the end with axis −1.
    expect(reshapeShape([2, 8], [1], 1, 0, "x")).toEqual([2, 1, 8])
    expect(reshapeShape([2, 8], [1], -1, 0, "x")).toEqual([2, 8, 1])
    expect(() => reshapeShape([2, 8], [-1, -1], 0, -1, "x")).toThrow(/multiple -1/)
    expect(() => reshapeShape([2, 8], [3, -1], 0, -1, "x")).toThrow(/divisible/)
  })

  it("Slice, Concat, Flatten, Crop, Tile, Reduction, ArgMax, Softmax loss, Accuracy", () => {
    const g = run(
      [4, 6, 5, 5],
      { name: "s", type: "Slice", bottom: ["in"], top: ["s0", "s1", "s2"], slice_param: { slice_point: [1, 4] } },
      { name: "e", type: "Slice", bottom: ["s2"], top: ["e0", "e1"], slice_param: { slice_dim: 0 } },
      { name: "c", type: "Concat", bottom: ["s0", "s1"], top: ["c"] },
      { name: "f", type: "Flatten", bottom: ["c"], top: ["f"] },
      { name: "t", type: "Tile", bottom: ["f"], top: ["t"], tile_param: { tiles: 3 } },
      { name: "r", type: "Reduction", bottom: ["t"], top: ["r"], reduction_param: { axis: 1 } },
      { name: "am", type: "ArgMax", bottom: ["e0"], top: ["am"], argmax_param: { out_max_val: true, top_k: 2 } },
      { name: "crop", type: "Crop", bottom: ["e1", "am"], top: ["crop"], crop_param: { axis: 1, offset: [0] } }
    )
    expect(g.blobs.get("s0")).toEqual([4, 1, 5, 5])
    expect(g.blobs.get("s1")).toEqual([4, 3, 5, 5])
    expect(g.blobs.get("e0")).toEqual([2, 2, 5, 5])
    expect(g.blobs.get("c")).toEqual([4, 4, 5, 5])
    expect(g.blobs.get("f")).toEqual([4, 100])
    expect(g.blobs.get("t")).toEqual([4, 300])
    expect(g.blobs.get("r")).toEqual([4])
    expect(g.blobs.get("am")).toEqual([2, 2, 2, 1])
    expect(g.blobs.get("crop")).toEqual([2, 2, 2, 1])
    expect(() => run([4, 6], { name: "s", type: "Slice", bottom: ["in"], top: ["a", "b", "c", "d"] })).toThrow(/should evenly divide input slice axis \(6\)/)
  })

  it("losses and accuracy: 0-axis loss tops, per-class accuracy top, label checks", () => {
    const net: NetParameter = {
      layer: [
        { name: "in", type: "Input", top: ["score", "label"], input_param: { shape: [{ dim: [8, 10] }, { dim: [8] }] } },
        { name: "acc", type: "Accuracy", bottom: ["score", "label"], top: ["acc", "per_class"] },
        { name: "loss", type: "SoftmaxWithLoss", bottom: ["score", "label"], top: ["loss"] }
      ]
    }
    const g = buildNetGraph(net)
    expect(g.blobs.get("acc")).toEqual([])
    expect(g.blobs.get("per_class")).toEqual([10])
    expect(g.blobs.get("loss")).toEqual([])
    expect(g.outputs).toEqual(["acc", "loss", "per_class"])
    const bad: NetParameter = {
      layer: [
        { name: "in", type: "Input", top: ["score", "label"], input_param: { shape: [{ dim: [8, 10] }, { dim: [8, 2] }] } },
        { name: "loss", type: "SoftmaxWithLoss", bottom: ["score", "label"], top: ["loss"] }
      ]
    }
    expect(() => buildNetGraph(bad)).toThrow(/layer 'loss' \(SoftmaxWithLoss\) blob 'label': number of labels \(16/)
  })

  it("DummyData (shape and legacy), MemoryData, ImageData with crop, LSTM", () => {
    const g = buildNetGraph({
      layer: [
        { name: "d", type: "DummyData", top: ["a", "b"], dummy_data_param: { num: [2], channels: [3], height: [4, 5], width: [6] } },
        { name: "m", type: "MemoryData", top: ["m", "ml"], memory_data_param: { batch_size: 5, channels: 1, height: 2, width: 2 } },
        { name: "i", type: "ImageData", top: ["i", "il"], image_data_param: { batch_size: 7, is_color: false }, transform_param: { crop_size: 9 } },
        { name: "x", type: "DummyData", top: ["x", "cont"], dummy_data_param: { shape: [{ dim: [3, 2, 5] }, { dim: [3, 2] }] } },
        { name: "lstm", type: "LSTM", bottom: ["x", "cont"], top: ["h"], recurrent_param: { num_output: 4 } }
      ]
    })
    expect(g.blobs.get("a")).toEqual([2, 3, 4, 6])
    expect(g.blobs.get("b")).toEqual([2, 3, 5, 6])
    expect(g.blobs.get("m")).toEqual([5, 1, 2, 2])
    expect(g.blobs.get("ml")).toEqual([5])
    expect(g.blobs.get("i")).toEqual([7, 1, 9, 9])
    expect(g.blobs.get("h")).toEqual([3, 2, 4])
    expect(g.layers.find((l) => l.name === "lstm")!.paramShapes).toEqual([[16, 5], [16], [16, 4]])
  })
})
