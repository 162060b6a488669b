import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { ArgMaxLayer } from "./arg-max.js"
import { BatchReindexLayer } from "./batch-reindex.js"
import { CropLayer } from "./crop.js"
import { EmbedLayer } from "./embed.js"
import { FilterLayer } from "./filter.js"
import { blobOf, expectClose, expectGradientsOk, param, randomBlob, setUpForward, testContext, values } from "./layer-test-kit.js"
import { MVNLayer } from "./mvn.js"
import { ParameterLayer } from "./parameter.js"
import { ReductionLayer } from "./reduction.js"
import { ReshapeLayer } from "./reshape.js"
import { SilenceLayer } from "./silence.js"
import { SliceLayer } from "./slice.js"
import { TileLayer } from "./tile.js"

const iota = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("Slice", () => {
  it("slice_point along axis 1: exact values and shapes", () => {
    const bottom = blobOf([2, 5, 2], iota(20))
    const tops = [new Blob(), new Blob(), new Blob()]
    setUpForward(new SliceLayer(param({ type: "Slice", slice_param: { slice_point: [1, 4] } }), testContext()), [bottom], tops)
    expect(tops.map((t) => t.shape)).toEqual([[2, 1, 2], [2, 3, 2], [2, 1, 2]])
    expect(values(tops[0]!)).toEqual([0, 1, 10, 11])
    expect(values(tops[1]!)).toEqual([2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17])
    expect(values(tops[2]!)).toEqual([8, 9, 18, 19])
  })

  it("even split along axis 0, deprecated slice_dim, negative axis", () => {
    const bottom = blobOf([4, 3], iota(12))
    const tops = [new Blob(), new Blob()]
    setUpForward(new SliceLayer(param({ type: "Slice", slice_param: { axis: 0 } }), testContext()), [bottom], tops)
    expect(values(tops[1]!)).toEqual([6, 7, 8, 9, 10, 11])
    const t3 = [new Blob(), new Blob(), new Blob()]
    setUpForward(new SliceLayer(param({ type: "Slice", slice_param: { slice_dim: 1 } }), testContext()), [bottom], t3)
    expect(values(t3[2]!)).toEqual([2, 5, 8, 11])
    setUpForward(new SliceLayer(param({ type: "Slice", slice_param: { axis: -1 } }), testContext()), [bottom], t3)
    expect(values(t3[0]!)).toEqual([0, 3, 6, 9])
  })

  it("a single top shares data and diff", () => {
    const bottom = blobOf([2, 3], iota(6))
    const top = new Blob()
    setUpForward(new SliceLayer(param({ type: "Slice" }), testContext()), [bottom], [top])
    expect(top.data).toBe(bottom.data)
    expect(top.diff).toBe(bottom.diff)
  })

  it("gradients on several shapes", () => {
    const rng = new Rng(21)
    expectGradientsOk(new SliceLayer(param({ type: "Slice", slice_param: { slice_point: [2, 3] } }), testContext()), [randomBlob([3, 5, 2, 3], rng)], [new Blob(), new Blob(), new Blob()])
    expectGradientsOk(new SliceLayer(param({ type: "Slice", slice_param: { axis: 2 } }), testContext()), [randomBlob([2, 3, 6], rng)], [new Blob(), new Blob(), new Blob()])
    expectGradientsOk(new SliceLayer(param({ type: "Slice", slice_param: { axis: 0, slice_point: [1] } }), testContext()), [randomBlob([3, 7], rng)], [new Blob(), new Blob()])
  })

  it("rejects bad configurations naming the layer", () => {
    const mk = (sp: object) => new SliceLayer(param({ name: "sl", type: "Slice", slice_param: sp }), testContext())
    expect(() => mk({ axis: 1, slice_dim: 1 }).setUp([new Blob([2, 4])], [new Blob(), new Blob()])).toThrow(/sl.*not both/)
    expect(() => mk({}).setUp([new Blob([2, 5])], [new Blob(), new Blob()])).toThrow(/sl.*evenly/)
    expect(() => mk({ slice_point: [3, 2] }).setUp([new Blob([2, 5])], [new Blob(), new Blob(), new Blob()])).toThrow(/sl.*strictly/)
  })
})

describe("Reshape", () => {
  const reshape = (shape: number[], rp: object) => {
    const bottom = blobOf(shape, iota(shape.reduce((a, b) => a * b, 1)))
    const top = new Blob()
    setUpForward(new ReshapeLayer(param({ type: "Reshape", reshape_param: rp }), testContext()), [bottom], [top])
    return { bottom, top }
  }

  it("0 copies, -1 infers, data and diff shared", () => {
    const { bottom, top } = reshape([2, 3, 4, 5], { shape: { dim: [0, -1, 4] } })
    expect(top.shape).toEqual([2, 15, 4])
    expect(top.data).toBe(bottom.data)
    expect(top.diff).toBe(bottom.diff)
    expect(values(top)).toEqual(iota(120))
    expect(reshape([2, 3, 4, 5], { shape: { dim: [-1] } }).top.shape).toEqual([120])
    expect(reshape([6], { shape: { dim: [2, 3] } }).top.shape).toEqual([2, 3])
  })

  it("axis and num_axes select the replaced axes", () => {
    expect(reshape([2, 3, 4, 5], { axis: 1, num_axes: 2, shape: { dim: [12] } }).top.shape).toEqual([2, 12, 5])
    expect(reshape([2, 3, 4, 5], { axis: -1, shape: { dim: [1, 1] } }).top.shape).toEqual([2, 3, 4, 5, 1, 1])
    expect(reshape([2, 3, 4, 5], { axis: 0, num_axes: 0, shape: { dim: [1] } }).top.shape).toEqual([1, 2, 3, 4, 5])
    expect(reshape([2, 8], { axis: 1, shape: { dim: [2, -1] } }).top.shape).toEqual([2, 2, 4])
    expect(reshape([2, 3, 4], { axis: -2, num_axes: 1, shape: { dim: [2, 2] } }).top.shape).toEqual([2, 3, 2, 2])
  })

  it("rejects in place, two -1s and count mismatches", () => {
    const b = new Blob([2, 3])
    expect(() => new ReshapeLayer(param({ name: "rs", type: "Reshape", reshape_param: { shape: { dim: [6] } } }), testContext()).setUp([b], [b])).toThrow(/rs.*in-place/)
    expect(() => new ReshapeLayer(param({ type: "Reshape", reshape_param: { shape: { dim: [-1, -1] } } }), testContext()).setUp([b], [new Blob()])).toThrow(/-1/)
    expect(() => new ReshapeLayer(param({ type: "Reshape", reshape_param: { shape: { dim: [4] } } }), testContext()).setUp([b], [new Blob()])).toThrow(/count/)
    expect(() => new ReshapeLayer(param({ type: "Reshape", reshape_param: { shape: { dim: [4, -1] } } }), testContext()).setUp([b], [new Blob()])).toThrow(/divisible/)
  })
})

describe("Crop", () => {
  it("default axis 2 with one offset: exact values", () => {
    const bottom = blobOf([1, 2, 4, 4], iota(32))
    const top = new Blob()
    setUpForward(new CropLayer(param({ type: "Crop", crop_param: { offset: [1] } }), testContext()), [bottom, new Blob([1, 1, 2, 3])], [top])
    expect(top.shape).toEqual([1, 2, 2, 3])
    expect(values(top)).toEqual([5, 6, 7, 9, 10, 11, 21, 22, 23, 25, 26, 27])
  })

  it("axis 1 with per-axis offsets, and axis -1 without offset", () => {
    const bottom = blobOf([2, 3, 3, 4], iota(72))
    const top = new Blob()
    setUpForward(new CropLayer(param({ type: "Crop", crop_param: { axis: 1, offset: [1, 0, 2] } }), testContext()), [bottom, new Blob([9, 2, 2, 2])], [top])
    expect(top.shape).toEqual([2, 2, 2, 2])
    expect(values(top).slice(0, 8)).toEqual([14, 15, 18, 19, 26, 27, 30, 31])
    setUpForward(new CropLayer(param({ type: "Crop", crop_param: { axis: -1 } }), testContext()), [bottom, new Blob([1, 1, 1, 2])], [top])
    expect(top.shape).toEqual([2, 3, 3, 2])
    expect(values(top).slice(0, 4)).toEqual([0, 1, 4, 5])
  })

  it("gradients (bottom 0 only) on several shapes", () => {
    const rng = new Rng(22)
    expectGradientsOk(new CropLayer(param({ type: "Crop", crop_param: { offset: [1, 2] } }), testContext()), [randomBlob([2, 3, 5, 7], rng), new Blob([1, 1, 3, 4])], [new Blob()], { checkBottom: [0] })
    expectGradientsOk(new CropLayer(param({ type: "Crop", crop_param: { axis: 0 } }), testContext()), [randomBlob([3, 5], rng), new Blob([2, 3])], [new Blob()], { checkBottom: [0] })
  })

  it("rejects out-of-bounds crops naming the layer", () => {
    expect(() => new CropLayer(param({ name: "cr", type: "Crop", crop_param: { offset: [2] } }), testContext()).setUp([new Blob([1, 1, 4, 4]), new Blob([1, 1, 3, 3])], [new Blob()])).toThrow(/cr.*out-of-bounds/)
    expect(() => new CropLayer(param({ type: "Crop", crop_param: { offset: [1, 1, 1] } }), testContext()).setUp([new Blob([1, 1, 4, 4]), new Blob([1, 1, 3, 3])], [new Blob()])).toThrow(/offset values/)
  })
})

describe("Tile", () => {
  it("exact values along axis 1 and axis 0", () => {
    const bottom = blobOf([2, 3], iota(6))
    const top = new Blob()
    setUpForward(new TileLayer(param({ type: "Tile", tile_param: { tiles: 2 } }), testContext()), [bottom], [top])
    expect(top.shape).toEqual([2, 6])
    expect(values(top)).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
    setUpForward(new TileLayer(param({ type: "Tile", tile_param: { axis: 0, tiles: 2 } }), testContext()), [bottom], [top])
    expect(values(top)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])
  })

  it("gradients (copies summed) and the tiles requirement", () => {
    const rng = new Rng(23)
    expectGradientsOk(new TileLayer(param({ type: "Tile", tile_param: { tiles: 3 } }), testContext()), [randomBlob([2, 3, 2], rng)], [new Blob()])
    expectGradientsOk(new TileLayer(param({ type: "Tile", tile_param: { axis: -1, tiles: 2 } }), testContext()), [randomBlob([3, 5], rng)], [new Blob()])
    expect(() => new TileLayer(param({ name: "tl", type: "Tile" }), testContext()).setUp([new Blob([2, 3])], [new Blob()])).toThrow(/tl.*tiles/)
  })
})

describe("Reduction", () => {
  const x = [1, -2, 3, -4, 5, -6]
  const run = (rp: object, shape = [2, 3]) => {
    const top = new Blob()
    setUpForward(new ReductionLayer(param({ type: "Reduction", reduction_param: rp }), testContext()), [blobOf(shape, x)], [top])
    return top
  }

  it("SUM over everything by default gives a 0-axis top; ASUM, SUMSQ, MEAN, coeff, axis", () => {
    const all = run({})
    expect(all.shape).toEqual([])
    expect(values(all)).toEqual([-3])
    expect(values(run({ operation: "ASUM" }))).toEqual([21])
    expect(values(run({ operation: "SUMSQ", coeff: 0.5 }))).toEqual([45.5])
    expectClose(values(run({ operation: "MEAN" })), [-0.5], 1e-7)
    const rows = run({ axis: 1, coeff: 2 })
    expect(rows.shape).toEqual([2])
    expect(values(rows)).toEqual([4, -10])
    expect(values(run({ operation: "MEAN", axis: -1 }, [3, 2]))).toEqual([-0.5, -0.5, -0.5])
  })

  it("gradients for each operation and several axes", () => {
    const rng = new Rng(24)
    for (const operation of ["SUM", "ASUM", "SUMSQ", "MEAN"] as const)
      for (const [shape, axis] of [[[2, 3, 4], 0], [[2, 3, 4], 1], [[3, 5], -1]] as const)
        expectGradientsOk(new ReductionLayer(param({ type: "Reduction", reduction_param: { operation, axis, coeff: 1.5 } }), testContext()), [randomBlob(shape, rng, -1, 1, [0])], [new Blob()])
  })
})

describe("MVN", () => {
  /** float64 oracle: per group subtract the mean, divide by (std + eps). */
  const oracle = (x: number[], groups: number, normalize: boolean, eps: number) => {
    const dim = x.length / groups
    const out: number[] = []
    for (let g = 0; g < groups; g++) {
      const part = x.slice(g * dim, (g + 1) * dim)
      const m = part.reduce((a, b) => a + b, 0) / dim
      const sd = Math.sqrt(part.reduce((a, b) => a + (b - m) ** 2, 0) / dim)
      out.push(...part.map((v) => (normalize ? (v - m) / (sd + eps) : v - m)))
    }
    return out
  }

  it("forward matches the float64 oracle per channel and across channels; the top is 4-D", () => {
    const rng = new Rng(25)
    const bottom = randomBlob([2, 3, 2, 3], rng, -1, 3)
    const x = values(bottom)
    for (const [mp, groups] of [[{}, 6], [{ across_channels: true }, 2], [{ normalize_variance: false }, 6], [{ eps: 0.1, across_channels: true }, 2]] as const) {
      const top = new Blob()
      setUpForward(new MVNLayer(param({ type: "MVN", mvn_param: mp }), testContext()), [bottom], [top])
      expectClose(values(top), oracle(x, groups, (mp as { normalize_variance?: boolean }).normalize_variance ?? true, (mp as { eps?: number }).eps ?? 1e-9), 2e-5)
    }
    const top = new Blob()
    setUpForward(new MVNLayer(param({ type: "MVN" }), testContext()), [randomBlob([3, 4], rng)], [top])
    expect(top.shape).toEqual([3, 4, 1, 1])
  })

  it("gradients for each mode on several shapes", () => {
    const rng = new Rng(26)
    for (const mp of [{}, { across_channels: true }, { normalize_variance: false }, { normalize_variance: false, across_channels: true }])
      for (const shape of [[2, 3, 4, 5], [3, 2, 3]])
        // Groups of 3 values are strongly curved: a smaller step keeps the finite-difference error small.
        expectGradientsOk(new MVNLayer(param({ type: "MVN", mvn_param: mp }), testContext()), [randomBlob(shape, rng, -2, 2)], [new Blob()], { step: 3e-3 })
  })

  it("in place equals out of place", () => {
    const rng = new Rng(27)
    const input = randomBlob([2, 3, 2, 2], rng)
    const dy = randomBlob([2, 3, 2, 2], rng)
    const run = (inPlace: boolean) => {
      const b = blobOf(input.shape, values(input))
      const t = inPlace ? b : new Blob()
      const layer = new MVNLayer(param({ type: "MVN" }), testContext())
      setUpForward(layer, [b], [t])
      const out = values(t)
      t.diff.set(dy.data.subarray(0, dy.count))
      layer.backward([t], [true], [b])
      return [out, Array.from(b.diff.subarray(0, b.count))]
    }
    expect(run(true)).toEqual(run(false))
  })
})

describe("Embed", () => {
  it("looks up rows, adds the bias, accumulates weight and bias gradients", () => {
    const layer = new EmbedLayer(param({ type: "Embed", embed_param: { input_dim: 3, num_output: 2, weight_filler: { type: "uniform" } } }), testContext())
    const bottom = blobOf([2, 2], [2, 0, 2, 1])
    const top = new Blob()
    layer.setUp([bottom], [top])
    expect(layer.blobs.map((b) => b.shape)).toEqual([[3, 2], [2]])
    layer.blobs[0]!.data.set([1, 2, 3, 4, 5, 6])
    layer.blobs[1]!.data.set([0.5, -0.5])
    layer.forward([bottom], [top])
    expect(top.shape).toEqual([2, 2, 2])
    expect(values(top)).toEqual([5.5, 5.5, 1.5, 1.5, 5.5, 5.5, 3.5, 3.5])
    top.diff.set([1, 1, 1, 1, 1, 1, 1, 1])
    layer.backward([top], [false], [bottom])
    expect(Array.from(layer.blobs[0]!.diff.subarray(0, 6))).toEqual([1, 1, 1, 1, 2, 2])
    expect(Array.from(layer.blobs[1]!.diff.subarray(0, 2))).toEqual([4, 4])
  })

  it("parameter gradients with and without bias; bad indices and input gradients are refused", () => {
    const rng = new Rng(28)
    for (const bias_term of [true, false]) {
      const bottom = new Blob([3, 4])
      for (let i = 0; i < bottom.count; i++) bottom.data[i] = rng.nextInt(5)
      expectGradientsOk(new EmbedLayer(param({ type: "Embed", embed_param: { input_dim: 5, num_output: 3, bias_term, weight_filler: { type: "gaussian" }, bias_filler: { type: "gaussian" } } }), testContext()), [bottom], [new Blob()], { checkBottom: [] })
    }
    const layer = new EmbedLayer(param({ name: "em", type: "Embed", embed_param: { input_dim: 3, num_output: 2 } }), testContext())
    expect(() => setUpForward(layer, [blobOf([1], [3])], [new Blob()])).toThrow(/em.*index/)
    expect(() => setUpForward(layer, [blobOf([1], [1.5])], [new Blob()])).toThrow(/em.*index/)
    expect(() => layer.backward([new Blob([1, 2])], [true], [blobOf([1], [1])])).toThrow(/em.*backpropagate/)
  })
})

describe("ArgMax", () => {
  const x = [0.1, 0.9, 0.5, 0.9, 0.3, 0.2, 0.7, 0.6]
  it("flattened per item: indices, top_k, out_max_val; ties take the larger index first", () => {
    const top = new Blob()
    const bottom = blobOf([2, 4], x)
    setUpForward(new ArgMaxLayer(param({ type: "ArgMax" }), testContext()), [bottom], [top])
    expect(top.shape).toEqual([2, 1, 1])
    expect(values(top)).toEqual([3, 2])
    setUpForward(new ArgMaxLayer(param({ type: "ArgMax", argmax_param: { top_k: 2, out_max_val: true } }), testContext()), [bottom], [top])
    expect(top.shape).toEqual([2, 2, 2])
    expect(values(top)).toEqual([3, 1, 0.9, 0.9, 2, 3, 0.7, 0.6].map(Math.fround))
  })

  it("along an axis: indices or values", () => {
    const bottom = blobOf([2, 4], x)
    const top = new Blob()
    setUpForward(new ArgMaxLayer(param({ type: "ArgMax", argmax_param: { axis: 0 } }), testContext()), [bottom], [top])
    expect(top.shape).toEqual([1, 4])
    expect(values(top)).toEqual([1, 0, 1, 0])
    setUpForward(new ArgMaxLayer(param({ type: "ArgMax", argmax_param: { axis: 1, top_k: 2, out_max_val: true } }), testContext()), [bottom], [top])
    expect(top.shape).toEqual([2, 2])
    expect(values(top)).toEqual([0.9, 0.9, 0.7, 0.6].map(Math.fround))
    expect(() => new ArgMaxLayer(param({ name: "am", type: "ArgMax", argmax_param: { top_k: 9 } }), testContext()).setUp([bottom], [top])).toThrow(/am.*top_k/)
  })
})

describe("Silence, Parameter, BatchReindex, Filter", () => {
  it("Silence has no tops and zeroes its bottoms' diffs", () => {
    const a = randomBlob([2, 3], new Rng(1))
    a.diff.fill(5)
    const layer = new SilenceLayer(param({ type: "Silence" }), testContext())
    layer.setUp([a], [])
    layer.forward([a], [])
    layer.backward([], [true], [a])
    expect(Array.from(a.diff.subarray(0, a.count))).toEqual([0, 0, 0, 0, 0, 0])
    expectGradientsOk(new SilenceLayer(param({ type: "Silence" }), testContext()), [randomBlob([3], new Rng(2))], [])
  })

  it("Parameter exposes its blob as the top (shared data and diff)", () => {
    const layer = new ParameterLayer(param({ type: "Parameter", parameter_param: { shape: { dim: [2, 3] } } }), testContext())
    const top = new Blob()
    setUpForward(layer, [], [top])
    expect(layer.blobs[0]!.shape).toEqual([2, 3])
    expect(top.shape).toEqual([2, 3])
    layer.blobs[0]!.data[4] = 7
    expect(top.data[4]).toBe(7)
    top.diff[1] = 3
    expect(layer.blobs[0]!.diff[1]).toBe(3)
    expect(() => new ParameterLayer(param({ name: "pp", type: "Parameter" }), testContext()).setUp([], [new Blob()])).toThrow(/pp.*shape/)
  })

  it("BatchReindex gathers items and scatter-adds gradients", () => {
    const bottom = blobOf([3, 2], iota(6))
    const idx = blobOf([4], [2, 0, 2, 1])
    const top = new Blob()
    const layer = new BatchReindexLayer(param({ type: "BatchReindex" }), testContext())
    setUpForward(layer, [bottom, idx], [top])
    expect(top.shape).toEqual([4, 2])
    expect(values(top)).toEqual([4, 5, 0, 1, 4, 5, 2, 3])
    top.diff.set([1, 1, 1, 1, 1, 1, 1, 1])
    layer.backward([top], [true, false], [bottom, idx])
    expect(Array.from(bottom.diff.subarray(0, 6))).toEqual([1, 1, 1, 1, 2, 2])
    const rng = new Rng(29)
    expectGradientsOk(new BatchReindexLayer(param({ type: "BatchReindex" }), testContext()), [randomBlob([4, 3, 2], rng), blobOf([5], [3, 1, 1, 0, 2])], [new Blob()], { checkBottom: [0] })
    expect(() => setUpForward(new BatchReindexLayer(param({ name: "br", type: "BatchReindex" }), testContext()), [bottom, blobOf([1], [3])], [top])).toThrow(/br.*batch size/)
  })

  it("Filter forwards the selected items of each bottom; gradients return to them", () => {
    const a = blobOf([4, 2], iota(8))
    const b = blobOf([4], [10, 11, 12, 13])
    const sel = blobOf([4, 1], [0, 1, 0, 1])
    const tops = [new Blob(), new Blob()]
    const layer = new FilterLayer(param({ type: "Filter" }), testContext())
    layer.setUp([a, b, sel], tops)
    expect(tops[0]!.shape).toEqual([4, 2]) // Caffe's first reshape keeps all items
    layer.reshape([a, b, sel], tops)
    layer.forward([a, b, sel], tops)
    expect(tops[0]!.shape).toEqual([2, 2])
    expect(values(tops[0]!)).toEqual([2, 3, 6, 7])
    expect(values(tops[1]!)).toEqual([11, 13])
    tops[0]!.diff.set([1, 2, 3, 4])
    a.diff.fill(9)
    layer.backward(tops, [true, false, false], [a, b, sel])
    expect(Array.from(a.diff.subarray(0, 8))).toEqual([0, 0, 1, 2, 0, 0, 3, 4])
    const rng = new Rng(30)
    expectGradientsOk(new FilterLayer(param({ type: "Filter" }), testContext()), [randomBlob([5, 3], rng), randomBlob([5, 2, 2], rng), blobOf([5], [1, 0, 1, 1, 0])], [new Blob(), new Blob()], { checkBottom: [0, 1] })
    expect(() => layer.backward(tops, [true, false, true], [a, b, sel])).toThrow(/selector/)
  })
})
