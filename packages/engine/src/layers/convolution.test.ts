import type { ConvolutionParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { ConvolutionLayer } from "./convolution.js"
import { DeconvolutionLayer } from "./deconvolution.js"
import { expectClose, expectGradientsOk, param, randomBlob, testContext, values } from "./layer-test-kit.js"

const filled: Pick<ConvolutionParameter, "weight_filler" | "bias_filler"> = {
  weight_filler: { type: "gaussian", std: 0.5 },
  bias_filler: { type: "gaussian", std: 0.5 }
}
const conv = (p: ConvolutionParameter, type = "Convolution") =>
  type === "Convolution"
    ? new ConvolutionLayer(param({ type, convolution_param: { ...filled, ...p } }), testContext())
    : new DeconvolutionLayer(param({ type, convolution_param: { ...filled, ...p } }), testContext())

interface Geo {
  kh: number
  kw: number
  sh: number
  sw: number
  ph: number
  pw: number
  dh: number
  dw: number
  group: number
}

/** Direct (no im2col) cross-correlation with groups: the independent oracle. */
const directConv = (x: Blob, w: Blob, bias: Blob | undefined, g: Geo, outC: number): { shape: number[]; data: number[] } => {
  const [N, C, H, W] = x.shape as [number, number, number, number]
  const oh = Math.floor((H + 2 * g.ph - (g.dh * (g.kh - 1) + 1)) / g.sh) + 1
  const ow = Math.floor((W + 2 * g.pw - (g.dw * (g.kw - 1) + 1)) / g.sw) + 1
  const cg = C / g.group
  const og = outC / g.group
  const out: number[] = []
  for (let n = 0; n < N; n++)
    for (let o = 0; o < outC; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = bias ? bias.data[o]! : 0
          const grp = Math.floor(o / og)
          for (let c = 0; c < cg; c++)
            for (let a = 0; a < g.kh; a++)
              for (let b = 0; b < g.kw; b++) {
                const h = i * g.sh - g.ph + a * g.dh
                const ww = j * g.sw - g.pw + b * g.dw
                if (h < 0 || h >= H || ww < 0 || ww >= W) continue
                s += w.data[((o * cg + c) * g.kh + a) * g.kw + b]! * x.data[((n * C + grp * cg + c) * H + h) * W + ww]!
              }
          out.push(s)
        }
  return { shape: [N, outC, oh, ow], data: out }
}

/** Direct transposed convolution: scatter every input pixel through the kernel. */
const directDeconv = (x: Blob, w: Blob, bias: Blob | undefined, g: Geo, outC: number): { shape: number[]; data: number[] } => {
  const [N, C, H, W] = x.shape as [number, number, number, number]
  const oh = g.sh * (H - 1) + g.dh * (g.kh - 1) + 1 - 2 * g.ph
  const ow = g.sw * (W - 1) + g.dw * (g.kw - 1) + 1 - 2 * g.pw
  const cg = C / g.group
  const og = outC / g.group
  const out = new Array<number>(N * outC * oh * ow).fill(0)
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / cg)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++)
          for (let o = 0; o < og; o++)
            for (let a = 0; a < g.kh; a++)
              for (let b = 0; b < g.kw; b++) {
                const h = i * g.sh - g.ph + a * g.dh
                const ww = j * g.sw - g.pw + b * g.dw
                if (h < 0 || h >= oh || ww < 0 || ww >= ow) continue
                const oc = grp * og + o
                out[((n * outC + oc) * oh + h) * ow + ww]! += w.data[((c * og + o) * g.kh + a) * g.kw + b]! * x.data[((n * C + c) * H + i) * W + j]!
              }
    }
  if (bias) for (let n = 0; n < N; n++) for (let o = 0; o < outC; o++) for (let k = 0; k < oh * ow; k++) out[((n * outC + o) * oh * ow) + k]! += bias.data[o]!
  return { shape: [N, outC, oh, ow], data: out }
}

const cases: Array<{ name: string; shape: number[]; p: ConvolutionParameter; g: Geo }> = [
  { name: "k3 s1 p0", shape: [2, 3, 5, 6], p: { num_output: 4, kernel_size: [3] }, g: { kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, group: 1 } },
  { name: "k3 s2 p1 odd sizes", shape: [2, 3, 7, 5], p: { num_output: 2, kernel_size: [3], stride: [2], pad: [1] }, g: { kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, group: 1 } },
  { name: "groups 2", shape: [1, 4, 5, 5], p: { num_output: 6, kernel_size: [2], group: 2 }, g: { kh: 2, kw: 2, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, group: 2 } },
  { name: "dilation 2 pad 2", shape: [2, 2, 6, 7], p: { num_output: 3, kernel_size: [3], dilation: [2], pad: [2] }, g: { kh: 3, kw: 3, sh: 1, sw: 1, ph: 2, pw: 2, dh: 2, dw: 2, group: 1 } },
  { name: "rectangular _h/_w", shape: [1, 2, 6, 7], p: { num_output: 2, kernel_h: 3, kernel_w: 2, stride_h: 2, stride_w: 1, pad_h: 1, pad_w: 0 }, g: { kh: 3, kw: 2, sh: 2, sw: 1, ph: 1, pw: 0, dh: 1, dw: 1, group: 1 } },
  { name: "per-axis repeated", shape: [1, 1, 5, 6], p: { num_output: 2, kernel_size: [2, 3], stride: [1, 2], dilation: [2, 1] }, g: { kh: 2, kw: 3, sh: 1, sw: 2, ph: 0, pw: 0, dh: 2, dw: 1, group: 1 } },
  { name: "1×1", shape: [2, 3, 3, 4], p: { num_output: 2, kernel_size: [1] }, g: { kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, group: 1 } }
]

describe("Convolution", () => {
  for (const c of cases) {
    it(`forward matches a direct convolution and gradients check: ${c.name}`, () => {
      const layer = conv(c.p)
      const x = randomBlob(c.shape, new Rng(3))
      const top = new Blob()
      layer.setUp([x], [top])
      layer.forward([x], [top])
      const ref = directConv(x, layer.blobs[0]!, layer.blobs[1], c.g, c.p.num_output!)
      expect(top.shape).toEqual(ref.shape)
      expectClose(values(top), ref.data, 1e-5)
      expectGradientsOk(conv(c.p), [randomBlob(c.shape, new Rng(4))], [new Blob()])
    })
  }
  it("LeNet conv1 shapes: 64×1×28×28, 20 k5 → 64×20×24×24", () => {
    const layer = conv({ num_output: 20, kernel_size: [5] })
    const top = new Blob()
    layer.setUp([new Blob([64, 1, 28, 28])], [top])
    expect(top.shape).toEqual([64, 20, 24, 24])
    expect(layer.blobs.map((b) => b.shape)).toEqual([[20, 1, 5, 5], [20]])
  })
  it("CaffeNet conv1: 227 k11 s4 → 55", () => {
    const top = new Blob()
    conv({ num_output: 1, kernel_size: [11], stride: [4] }).setUp([new Blob([1, 3, 227, 227])], [top])
    expect(top.shape).toEqual([1, 1, 55, 55])
  })
  it("no bias; two bottoms share the weights", () => {
    const p = { num_output: 2, kernel_size: [2], bias_term: false }
    const layer = conv(p)
    const a = randomBlob([1, 2, 4, 4], new Rng(5))
    const b = randomBlob([1, 2, 4, 4], new Rng(6))
    const ta = new Blob()
    const tb = new Blob()
    layer.setUp([a, b], [ta, tb])
    expect(layer.blobs.length).toBe(1)
    layer.forward([a, b], [ta, tb])
    const g: Geo = { kh: 2, kw: 2, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, group: 1 }
    expectClose(values(tb), directConv(b, layer.blobs[0]!, undefined, g, 2).data)
    expectGradientsOk(conv(p), [randomBlob([1, 2, 4, 4], new Rng(7)), randomBlob([1, 2, 4, 4], new Rng(8))], [new Blob(), new Blob()])
  })
  it("1-D convolution (one spatial axis) runs as H = 1", () => {
    const layer = conv({ num_output: 2, kernel_size: [3], stride: [2], pad: [1] })
    const x = randomBlob([2, 3, 7], new Rng(9))
    const top = new Blob()
    layer.setUp([x], [top])
    expect(top.shape).toEqual([2, 2, 4])
    expect(layer.blobs[0]!.shape).toEqual([2, 3, 3])
    layer.forward([x], [top])
    const x4 = new Blob([2, 3, 1, 7])
    x4.data.set(x.data)
    const w4 = new Blob([2, 3, 1, 3])
    w4.data.set(layer.blobs[0]!.data)
    const ref = directConv(x4, w4, layer.blobs[1], { kh: 1, kw: 3, sh: 1, sw: 2, ph: 0, pw: 1, dh: 1, dw: 1, group: 1 }, 2)
    expectClose(values(top), ref.data)
    expectGradientsOk(conv({ num_output: 2, kernel_size: [3], stride: [2], pad: [1] }), [randomBlob([2, 3, 7], new Rng(10))], [new Blob()])
  })
  it("rejects 3-D kernels, bad groups and mixed kernel forms with the layer's name", () => {
    expect(() => conv({ num_output: 2, kernel_size: [3] }).setUp([new Blob([1, 1, 4, 4, 4])], [new Blob()])).toThrow(/"test".*3 spatial axes/)
    expect(() => conv({ num_output: 3, kernel_size: [1], group: 2 }).setUp([new Blob([1, 4, 4, 4])], [new Blob()])).toThrow(/not a multiple of group/)
    expect(() => conv({ num_output: 2, kernel_size: [3], kernel_h: 3, kernel_w: 3 }).setUp([new Blob([1, 1, 4, 4])], [new Blob()])).toThrow(/not both/)
    expect(() => conv({ num_output: 2 }).setUp([new Blob([1, 1, 4, 4])], [new Blob()])).toThrow(/kernel_size is required/)
  })
})

describe("Deconvolution", () => {
  const dcases: Array<{ name: string; shape: number[]; p: ConvolutionParameter; g: Geo }> = [
    { name: "k4 s2 p1 (2× upsampling)", shape: [2, 3, 3, 4], p: { num_output: 2, kernel_size: [4], stride: [2], pad: [1] }, g: { kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, group: 1 } },
    { name: "groups 2, k3", shape: [1, 4, 3, 3], p: { num_output: 2, kernel_size: [3], group: 2 }, g: { kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, group: 2 } },
    { name: "dilation 2 stride 3 odd", shape: [1, 2, 3, 2], p: { num_output: 3, kernel_size: [2], dilation: [2], stride: [3] }, g: { kh: 2, kw: 2, sh: 3, sw: 3, ph: 0, pw: 0, dh: 2, dw: 2, group: 1 } },
    { name: "1×1", shape: [1, 3, 2, 3], p: { num_output: 2, kernel_size: [1] }, g: { kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, group: 1 } }
  ]
  for (const c of dcases) {
    it(`forward matches a direct transposed convolution and gradients check: ${c.name}`, () => {
      const layer = conv(c.p, "Deconvolution")
      const x = randomBlob(c.shape, new Rng(11))
      const top = new Blob()
      layer.setUp([x], [top])
      expect(layer.blobs[0]!.shape).toEqual([c.shape[1], c.p.num_output! / c.g.group, c.g.kh, c.g.kw])
      layer.forward([x], [top])
      const ref = directDeconv(x, layer.blobs[0]!, layer.blobs[1], c.g, c.p.num_output!)
      expect(top.shape).toEqual(ref.shape)
      expectClose(values(top), ref.data, 1e-5)
      expectGradientsOk(conv(c.p, "Deconvolution"), [randomBlob(c.shape, new Rng(12))], [new Blob()])
    })
  }
})
