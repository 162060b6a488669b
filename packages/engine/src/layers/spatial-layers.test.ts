import type { ConvolutionParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { Im2colLayer } from "./im2col.js"
import { blobOf, expectClose, expectGradientsOk, param, randomBlob, setUpForward, testContext, values } from "./layer-test-kit.js"
import { LRNLayer } from "./lrn.js"
import { SPPLayer } from "./spp.js"

const at = (b: Blob, n: number, c: number, h: number, w: number) => b.data[((n * b.shape[1]! + c) * b.shape[2]! + h) * b.shape[3]! + w]!

/** float64 LRN oracles, written from the formulas (not the layer's code). */
const lrnAcross = (x: Blob, n: number, alpha: number, beta: number, k: number) => {
  const [N, C, H, W] = x.shape as [number, number, number, number]
  const out: number[] = []
  for (let i = 0; i < N; i++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          let s = 0
          for (let j = c - (n - 1) / 2; j <= c + (n - 1) / 2; j++) if (j >= 0 && j < C) s += at(x, i, j, h, w) ** 2
          out.push(at(x, i, c, h, w) * (k + (alpha / n) * s) ** -beta)
        }
  return out
}

/** Caffe's WITHIN_CHANNEL composition literally: AVE pooling (pad (n−1)/2, Caffe's divisor) of x², then power. */
const lrnWithin = (x: Blob, n: number, alpha: number, beta: number) => {
  const [N, C, H, W] = x.shape as [number, number, number, number]
  const pad = (n - 1) / 2
  const out: number[] = []
  for (let i = 0; i < N; i++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const hs = h - pad
          const ws = w - pad
          const he = Math.min(hs + n, H + pad)
          const we = Math.min(ws + n, W + pad)
          const divisor = (he - hs) * (we - ws)
          let s = 0
          for (let y = Math.max(hs, 0); y < Math.min(he, H); y++) for (let z = Math.max(ws, 0); z < Math.min(we, W); z++) s += at(x, i, c, y, z) ** 2
          out.push(at(x, i, c, h, w) * (1 + alpha * (s / divisor)) ** -beta)
        }
  return out
}

describe("LRN", () => {
  it("ACROSS_CHANNELS forward matches the float64 formula (defaults and custom)", () => {
    const rng = new Rng(41)
    const x = randomBlob([2, 7, 3, 3], rng, -2, 2)
    const top = new Blob()
    setUpForward(new LRNLayer(param({ type: "LRN" }), testContext()), [x], [top])
    expectClose(values(top), lrnAcross(x, 5, 1, 0.75, 1), 1e-5)
    setUpForward(new LRNLayer(param({ type: "LRN", lrn_param: { local_size: 3, alpha: 0.5, beta: 0.6, k: 2 } }), testContext()), [x], [top])
    expectClose(values(top), lrnAcross(x, 3, Math.fround(0.5), Math.fround(0.6), 2), 1e-5)
  })

  it("WITHIN_CHANNEL forward matches Caffe's split/square/pool/power/product composition", () => {
    const rng = new Rng(42)
    const x = randomBlob([2, 2, 5, 4], rng, -2, 2)
    const top = new Blob()
    setUpForward(new LRNLayer(param({ type: "LRN", lrn_param: { norm_region: "WITHIN_CHANNEL", local_size: 3, alpha: 2, k: 5 } }), testContext()), [x], [top])
    expectClose(values(top), lrnWithin(x, 3, 2, Math.fround(0.75)), 1e-5)
    setUpForward(new LRNLayer(param({ type: "LRN", lrn_param: { norm_region: "WITHIN_CHANNEL" } }), testContext()), [x], [top])
    expectClose(values(top), lrnWithin(x, 5, 1, Math.fround(0.75)), 1e-5)
  })

  it("gradients in both regions on odd shapes", () => {
    const rng = new Rng(43)
    for (const lrn_param of [{}, { local_size: 3, alpha: 0.7, beta: 0.9, k: 1.5 }, { norm_region: "WITHIN_CHANNEL" as const }, { norm_region: "WITHIN_CHANNEL" as const, local_size: 3, alpha: 1.3 }])
      for (const shape of [[2, 7, 3, 3], [1, 3, 5, 4]])
        expectGradientsOk(new LRNLayer(param({ type: "LRN", lrn_param }), testContext()), [randomBlob(shape, rng, -1.5, 1.5)], [new Blob()])
  })

  it("WITHIN_CHANNEL backward does not read the top (a later in-place layer may overwrite it)", () => {
    const rng = new Rng(44)
    const x = randomBlob([1, 2, 4, 3], rng)
    const dy = randomBlob([1, 2, 4, 3], rng)
    const run = (clobber: boolean) => {
      const top = new Blob()
      const layer = new LRNLayer(param({ type: "LRN", lrn_param: { norm_region: "WITHIN_CHANNEL", local_size: 3 } }), testContext())
      setUpForward(layer, [x], [top])
      if (clobber) top.data.fill(7)
      top.diff.set(dy.data.subarray(0, dy.count))
      layer.backward([top], [true], [x])
      return Array.from(x.diff.subarray(0, x.count))
    }
    expect(run(true)).toEqual(run(false))
  })

  it("rejects even local_size, non-4-D input and in place", () => {
    expect(() => new LRNLayer(param({ name: "n1", type: "LRN", lrn_param: { local_size: 4 } }), testContext()).setUp([new Blob([1, 3, 2, 2])], [new Blob()])).toThrow(/n1.*odd/)
    expect(() => new LRNLayer(param({ name: "n2", type: "LRN" }), testContext()).setUp([new Blob([3, 2])], [new Blob()])).toThrow(/n2.*4 axes/)
    const b = new Blob([1, 3, 2, 2])
    expect(() => new LRNLayer(param({ name: "n3", type: "LRN" }), testContext()).setUp([b], [b])).toThrow(/n3.*in place/)
  })
})

describe("SPP", () => {
  /** Distinct values (spaced 0.05 apart, shuffled) so MAX pooling has no near-ties under ±step. */
  const distinct = (shape: number[], seed: number) => {
    const rng = new Rng(seed)
    const b = new Blob(shape)
    const order = Array.from({ length: b.count }, (_, i) => i)
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    order.forEach((v, i) => (b.data[i] = (v - b.count / 2) * 0.05))
    return b
  }

  it("pyramid of 3 levels on 7×9: shapes and MAX values per bin", () => {
    const x = distinct([2, 3, 7, 9], 44)
    const top = new Blob()
    setUpForward(new SPPLayer(param({ type: "SPP", spp_param: { pyramid_height: 3 } }), testContext()), [x], [top])
    // level 0: 1×1; level 1: kernel (4, 5), pad (1, 1) → 2×2; level 2: kernel (2, 3), pad (1, 2) → 4×4 (one less in W)
    expect(top.shape).toEqual([2, 3 * (1 + 4 + 16)])
    // Level 0 is the global max of each channel.
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++) {
        let m = -Infinity
        for (let h = 0; h < 7; h++) for (let w = 0; w < 9; w++) m = Math.max(m, at(x, n, c, h, w))
        expect(top.data[n * 63 + c]).toBe(m)
      }
    // Level 1, channel 0, bin (1, 1): rows [3, 7), cols [4, 9) in padded-window terms.
    let m = -Infinity
    for (let h = 3; h < 7; h++) for (let w = 4; w < 9; w++) m = Math.max(m, at(x, 0, 0, h, w))
    expect(top.data[3 + 3]).toBe(m)
  })

  it("pyramid_height 1 is a single (global) pooling with a 4-D top; AVE averages", () => {
    const x = blobOf([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
    const top = new Blob()
    setUpForward(new SPPLayer(param({ type: "SPP", spp_param: { pyramid_height: 1, pool: "AVE" } }), testContext()), [x], [top])
    expect(top.shape).toEqual([1, 2, 1, 1])
    expect(values(top)).toEqual([2.5, 6.5])
  })

  it("gradients for MAX and AVE", () => {
    const rng = new Rng(45)
    expectGradientsOk(new SPPLayer(param({ type: "SPP", spp_param: { pyramid_height: 3 } }), testContext()), [distinct([2, 2, 7, 9], 46)], [new Blob()])
    expectGradientsOk(new SPPLayer(param({ type: "SPP", spp_param: { pyramid_height: 2, pool: "AVE" } }), testContext()), [randomBlob([2, 3, 5, 6], rng)], [new Blob()])
    expectGradientsOk(new SPPLayer(param({ type: "SPP", spp_param: { pyramid_height: 1 } }), testContext()), [distinct([1, 2, 3, 4], 47)], [new Blob()])
  })

  it("rejects a pyramid whose padding reaches the kernel (Caffe's pooling check) and STOCHASTIC", () => {
    expect(() => new SPPLayer(param({ name: "sp", type: "SPP", spp_param: { pyramid_height: 3 } }), testContext()).setUp([new Blob([1, 1, 5, 8])], [new Blob()])).toThrow(/sp.*pad/)
    expect(() => new SPPLayer(param({ name: "sp2", type: "SPP", spp_param: { pyramid_height: 2, pool: "STOCHASTIC" } }), testContext()).setUp([new Blob([1, 1, 4, 4])], [new Blob()])).toThrow(/sp2.*STOCHASTIC/)
  })
})

describe("Im2col", () => {
  /** float64-free oracle: row (c, i, j), column (oh, ow) = x[c, oh·s − p + i·d, ow·s − p + j·d] or 0. */
  const oracle = (x: Blob, k: [number, number], s: [number, number], p: [number, number], d: [number, number]) => {
    const [N, C, H, W] = x.shape as [number, number, number, number]
    const oh = Math.floor((H + 2 * p[0] - (d[0] * (k[0] - 1) + 1)) / s[0]) + 1
    const ow = Math.floor((W + 2 * p[1] - (d[1] * (k[1] - 1) + 1)) / s[1]) + 1
    const out: number[] = []
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < k[0]; i++)
          for (let j = 0; j < k[1]; j++)
            for (let y = 0; y < oh; y++)
              for (let z = 0; z < ow; z++) {
                const h = y * s[0] - p[0] + i * d[0]
                const w = z * s[1] - p[1] + j * d[1]
                out.push(h >= 0 && h < H && w >= 0 && w < W ? at(x, n, c, h, w) : 0)
              }
    return { out, shape: [N, C * k[0] * k[1], oh, ow] }
  }

  it("forward equals the patch matrix for square, rectangular, padded, strided and dilated kernels", () => {
    const rng = new Rng(48)
    const x = randomBlob([2, 3, 6, 5], rng)
    const cases: Array<[ConvolutionParameter, number[], number[], number[], number[]]> = [
      [{ kernel_size: [3] }, [3, 3], [1, 1], [0, 0], [1, 1]],
      [{ kernel_h: 2, kernel_w: 3, stride: [2], pad: [1] }, [2, 3], [2, 2], [1, 1], [1, 1]],
      [{ kernel_size: [2, 3], stride: [1, 2], pad: [0, 1], dilation: [2] }, [2, 3], [1, 2], [0, 1], [2, 2]]
    ]
    for (const [cp, k, s, p, d] of cases) {
      const top = new Blob()
      setUpForward(new Im2colLayer(param({ type: "Im2col", convolution_param: cp }), testContext()), [x], [top])
      const ref = oracle(x, k as [number, number], s as [number, number], p as [number, number], d as [number, number])
      expect(top.shape).toEqual(ref.shape)
      expect(values(top)).toEqual(ref.out)
    }
  })

  it("gradients (col2im sums overlaps) and configuration errors", () => {
    const rng = new Rng(49)
    expectGradientsOk(new Im2colLayer(param({ type: "Im2col", convolution_param: { kernel_size: [3], stride: [2], pad: [1] } }), testContext()), [randomBlob([2, 2, 5, 5], rng)], [new Blob()])
    expectGradientsOk(new Im2colLayer(param({ type: "Im2col", convolution_param: { kernel_size: [2], dilation: [2] } }), testContext()), [randomBlob([1, 3, 5, 4], rng)], [new Blob()])
    expect(() => new Im2colLayer(param({ name: "ic", type: "Im2col", convolution_param: {} }), testContext()).setUp([new Blob([1, 1, 3, 3])], [new Blob()])).toThrow(/ic.*kernel/)
    expect(() => new Im2colLayer(param({ name: "ic2", type: "Im2col", convolution_param: { kernel_size: [2] } }), testContext()).setUp([new Blob([1, 1, 3, 3, 3])], [new Blob()])).toThrow(/ic2.*spatial/)
  })
})
