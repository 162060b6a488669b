import type { LayerParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { BatchNormLayer } from "./batch-norm.js"
import { BiasLayer } from "./bias.js"
import { blobOf, expectClose, expectGradientsOk, param, randomBlob, setUpForward, testContext, values } from "./layer-test-kit.js"
import { ScaleLayer } from "./scale.js"

/** float64 batch statistics per channel (axis 1) of an (N, C, spatial…) array. */
const channelStats = (b: Blob) => {
  const N = b.shape[0]!
  const C = b.numAxes === 1 ? 1 : b.shape[1]!
  const S = b.count / (N * C)
  const mean = new Array<number>(C).fill(0)
  const v = new Array<number>(C).fill(0)
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) mean[c]! += b.data[(n * C + c) * S + s]! / (N * S)
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) v[c]! += (b.data[(n * C + c) * S + s]! - mean[c]!) ** 2 / (N * S)
  return { mean, variance: v, N, C, S }
}

describe("BatchNorm", () => {
  const shapes = [[2, 3, 4, 5], [5, 3], [3, 2, 3], [4, 1, 3, 2]]

  it("TRAIN: batch statistics, gradient check on several shapes", () => {
    const rng = new Rng(3)
    for (const shape of shapes) {
      const layer = new BatchNormLayer(param({ type: "BatchNorm" }), testContext("TRAIN"))
      expectGradientsOk(layer, [randomBlob(shape, rng, -2, 3)], [new Blob()], { checkParams: false })
    }
  })

  it("TEST: global statistics, gradient check (dx = dy/√(σ²+eps))", () => {
    const rng = new Rng(4)
    for (const shape of shapes) {
      const bottom = randomBlob(shape, rng, -2, 3)
      const layer = new BatchNormLayer(param({ type: "BatchNorm" }), testContext("TEST"))
      layer.setUp([bottom], [new Blob()])
      const C = layer.blobs[0]!.count
      for (let c = 0; c < C; c++) {
        layer.blobs[0]!.data[c] = 0.3 * c - 0.2
        layer.blobs[1]!.data[c] = 0.5 + c
      }
      layer.blobs[2]!.data[0] = 2
      expectGradientsOk(layer, [bottom], [new Blob()], { checkParams: false })
    }
  })

  it("TRAIN forward matches float64 normalisation and updates the moving averages with m/(m−1)", () => {
    const rng = new Rng(5)
    const bottom = randomBlob([3, 2, 2, 3], rng, -1, 4)
    const top = new Blob()
    const layer = new BatchNormLayer(param({ type: "BatchNorm", batch_norm_param: { moving_average_fraction: 0.9, eps: 1e-3 } }), testContext("TRAIN"))
    setUpForward(layer, [bottom], [top])
    const { mean, variance, N, C, S } = channelStats(bottom)
    const expected: number[] = []
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) expected.push((bottom.data[(n * C + c) * S + s]! - mean[c]!) / Math.sqrt(variance[c]! + 1e-3))
    expectClose(values(top), expected, 2e-5)
    const m = N * S
    expectClose(values(layer.blobs[0]!), mean, 1e-5)
    expectClose(values(layer.blobs[1]!), variance.map((v) => (v * m) / (m - 1)), 1e-5)
    expect(values(layer.blobs[2]!)).toEqual([1])
    // Second pass: s = 0.9·1 + 1, sums = 0.9·old + new.
    layer.forward([bottom], [top])
    expectClose(values(layer.blobs[2]!), [1.9], 1e-7)
    expectClose(values(layer.blobs[0]!), mean.map((v) => 1.9 * v), 1e-5)
    // A TEST layer sharing these statistics normalises with mean_sum/s and var_sum/s.
    const testLayer = new BatchNormLayer(param({ type: "BatchNorm", batch_norm_param: { eps: 1e-3 } }), testContext("TEST"))
    testLayer.blobs = layer.blobs
    const testTop = new Blob()
    setUpForward(testLayer, [bottom], [testTop])
    const unbiased = variance.map((v) => (v * m) / (m - 1))
    const exp2: number[] = []
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) exp2.push((bottom.data[(n * C + c) * S + s]! - mean[c]!) / Math.sqrt(unbiased[c]! + 1e-3))
    expectClose(values(testTop), exp2, 2e-5)
  })

  it("TEST with zero statistics (s = 0) gives x/√eps; use_global_stats overrides the phase", () => {
    const bottom = blobOf([1, 2], [0.5, -1])
    const top = new Blob()
    setUpForward(new BatchNormLayer(param({ type: "BatchNorm", batch_norm_param: { eps: 0.25 } }), testContext("TEST")), [bottom], [top])
    expectClose(values(top), [1, -2], 1e-7)
    const forced = new BatchNormLayer(param({ type: "BatchNorm", batch_norm_param: { use_global_stats: false } }), testContext("TEST"))
    const t2 = new Blob()
    setUpForward(forced, [blobOf([2, 1], [1, 3])], [t2])
    expectClose(values(t2), [-1, 1], 1e-4)
    expect(values(forced.blobs[2]!)).toEqual([1])
    const frozen = new BatchNormLayer(param({ type: "BatchNorm", batch_norm_param: { use_global_stats: true } }), testContext("TRAIN"))
    setUpForward(frozen, [blobOf([2, 1], [1, 3])], [t2])
    expect(values(frozen.blobs[2]!)).toEqual([0])
  })

  it("runs in place with the same results, and rejects learnable statistics", () => {
    const rng = new Rng(6)
    const input = randomBlob([2, 3, 3], rng)
    const dyv = randomBlob([2, 3, 3], rng)
    const run = (inPlace: boolean) => {
      const bottom = blobOf(input.shape, values(input))
      const top = inPlace ? bottom : new Blob()
      const layer = new BatchNormLayer(param({ type: "BatchNorm" }), testContext("TRAIN"))
      setUpForward(layer, [bottom], [top])
      const out = values(top)
      top.diff.set(dyv.data.subarray(0, dyv.count))
      layer.backward([top], [true], [bottom])
      return [out, Array.from(bottom.diff.subarray(0, bottom.count))]
    }
    expect(run(true)).toEqual(run(false))
    const bad = new BatchNormLayer(param({ name: "bn1", type: "BatchNorm", param: [{ lr_mult: 0 }, { lr_mult: 1 }] }), testContext())
    expect(() => bad.setUp([new Blob([2, 3])], [new Blob()])).toThrow(/bn1.*lr_mult/)
  })
})

interface AffineCase {
  name: string
  p: LayerParameter
  bottom: number[]
  second?: number[]
  blobShapes?: number[][]
}

const scaleCases: AffineCase[] = [
  { name: "axis 1 (channels)", p: { scale_param: {} }, bottom: [2, 3, 4, 5], blobShapes: [[3]] },
  { name: "axis 1, bias_term", p: { scale_param: { bias_term: true, bias_filler: { type: "uniform" }, filler: { type: "uniform", min: -2, max: 2 } } }, bottom: [2, 3, 4, 5], blobShapes: [[3], [3]] },
  { name: "axis 0, num_axes -1 (elementwise)", p: { scale_param: { axis: 0, num_axes: -1, filler: { type: "gaussian" } } }, bottom: [2, 3, 5], blobShapes: [[2, 3, 5]] },
  { name: "scalar (num_axes 0) with bias", p: { scale_param: { num_axes: 0, bias_term: true, filler: { type: "constant", value: 1.7 } } }, bottom: [3, 2, 3], blobShapes: [[], []] },
  { name: "axis 2, num_axes 2", p: { scale_param: { axis: 2, num_axes: 2, filler: { type: "uniform" } } }, bottom: [2, 3, 3, 5], blobShapes: [[3, 5]] },
  { name: "axis -2", p: { scale_param: { axis: -2, filler: { type: "uniform" } } }, bottom: [2, 3, 3, 5], blobShapes: [[3]] },
  { name: "2 bottoms, axis 1", p: { scale_param: {} }, bottom: [2, 3, 4, 5], second: [3, 4], blobShapes: [] },
  { name: "2 bottoms, axis 0, with bias", p: { scale_param: { axis: 0, bias_term: true, bias_filler: { type: "gaussian" } } }, bottom: [3, 2, 5], second: [3, 2], blobShapes: [[3, 2]] },
  { name: "2 bottoms, scalar scale", p: { scale_param: {} }, bottom: [2, 3, 4], second: [], blobShapes: [] },
  { name: "2 bottoms, last axes", p: { scale_param: { axis: 1 } }, bottom: [2, 3, 4], second: [3, 4], blobShapes: [] }
]

describe("Scale", () => {
  for (const c of scaleCases) {
    it(`${c.name}: blob shapes and gradients`, () => {
      const rng = new Rng(11)
      const bottoms = [randomBlob(c.bottom, rng, -2, 2)]
      if (c.second) bottoms.push(randomBlob(c.second, rng, -2, 2))
      const layer = new ScaleLayer(param({ type: "Scale", ...c.p }), testContext())
      layer.setUp(bottoms, [new Blob()])
      expect(layer.blobs.map((b) => b.shape)).toEqual(c.blobShapes)
      const fresh = new ScaleLayer(param({ type: "Scale", ...c.p }), testContext())
      expectGradientsOk(fresh, bottoms, [new Blob()])
    })
  }

  it("forward values: channel scale plus bias, and scale from bottom[1]", () => {
    const layer = new ScaleLayer(param({ type: "Scale", scale_param: { bias_term: true } }), testContext())
    const bottom = blobOf([1, 2, 2], [1, 2, 3, 4])
    const top = new Blob()
    layer.setUp([bottom], [top])
    expect(values(layer.blobs[0]!)).toEqual([1, 1])
    expect(values(layer.blobs[1]!)).toEqual([0, 0])
    layer.blobs[0]!.data.set([2, -1])
    layer.blobs[1]!.data.set([0.5, 10])
    layer.reshape([bottom], [top])
    layer.forward([bottom], [top])
    expect(values(top)).toEqual([2.5, 4.5, 7, 6])
    const two = new ScaleLayer(param({ type: "Scale", scale_param: { axis: 0 } }), testContext())
    const t2 = new Blob()
    setUpForward(two, [blobOf([2, 2], [1, 2, 3, 4]), blobOf([2, 2], [5, 6, 7, 8])], [t2])
    expect(values(t2)).toEqual([5, 12, 21, 32])
  })

  it("in place equals out of place (data, bottom diff, scale and bias diffs)", () => {
    const rng = new Rng(12)
    const input = randomBlob([2, 3, 4], rng)
    const dy = randomBlob([2, 3, 4], rng)
    const run = (inPlace: boolean) => {
      const bottom = blobOf(input.shape, values(input))
      const top = inPlace ? bottom : new Blob()
      const layer = new ScaleLayer(param({ type: "Scale", scale_param: { bias_term: true, filler: { type: "uniform" } } }), testContext())
      setUpForward(layer, [bottom], [top])
      const out = values(top)
      top.diff.set(dy.data.subarray(0, dy.count))
      layer.backward([top], [true], [bottom])
      return [out, Array.from(bottom.diff.subarray(0, bottom.count)), ...layer.blobs.map((b) => Array.from(b.diff.subarray(0, b.count)))]
    }
    expect(run(true)).toEqual(run(false))
  })

  it("rejects mismatched shapes, naming the layer", () => {
    const layer = new ScaleLayer(param({ name: "sc", type: "Scale" }), testContext())
    expect(() => layer.setUp([new Blob([2, 3, 4]), new Blob([4])], [new Blob()])).toThrow(/sc.*dimension mismatch/)
  })
})

const biasCases: AffineCase[] = [
  { name: "axis 1", p: { bias_param: { filler: { type: "uniform" } } }, bottom: [2, 3, 4, 5], blobShapes: [[3]] },
  { name: "axis 0, num_axes -1", p: { bias_param: { axis: 0, num_axes: -1, filler: { type: "gaussian" } } }, bottom: [3, 5], blobShapes: [[3, 5]] },
  { name: "scalar", p: { bias_param: { num_axes: 0, filler: { type: "constant", value: 0.5 } } }, bottom: [3, 2, 3], blobShapes: [[]] },
  { name: "axis 2, num_axes 2", p: { bias_param: { axis: 2, num_axes: 2 } }, bottom: [2, 3, 3, 5], blobShapes: [[3, 5]] },
  { name: "2 bottoms", p: {}, bottom: [2, 3, 4], second: [3, 4], blobShapes: [] },
  { name: "2 bottoms, axis 0", p: { bias_param: { axis: 0 } }, bottom: [2, 3, 4], second: [2], blobShapes: [] }
]

describe("Bias", () => {
  for (const c of biasCases) {
    it(`${c.name}: blob shapes and gradients`, () => {
      const rng = new Rng(13)
      const bottoms = [randomBlob(c.bottom, rng, -2, 2)]
      if (c.second) bottoms.push(randomBlob(c.second, rng, -2, 2))
      const layer = new BiasLayer(param({ type: "Bias", ...c.p }), testContext())
      layer.setUp(bottoms, [new Blob()])
      expect(layer.blobs.map((b) => b.shape)).toEqual(c.blobShapes)
      expectGradientsOk(new BiasLayer(param({ type: "Bias", ...c.p }), testContext()), bottoms, [new Blob()])
    })
  }

  it("forward values and in-place backward (bias diff accumulates)", () => {
    const layer = new BiasLayer(param({ type: "Bias", bias_param: { filler: { type: "constant", value: 1 } } }), testContext())
    const x = blobOf([2, 2], [1, 2, 3, 4])
    setUpForward(layer, [x], [x])
    expect(values(x)).toEqual([2, 3, 4, 5])
    x.diff.set([1, 2, 3, 4])
    layer.blobs[0]!.diff.set([10, 10])
    layer.backward([x], [true], [x])
    expect(Array.from(x.diff.subarray(0, 4))).toEqual([1, 2, 3, 4])
    expect(values({ ...layer.blobs[0]!, data: layer.blobs[0]!.diff } as Blob)).toEqual([14, 16])
  })
})
