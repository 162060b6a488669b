/**
 * Convolution and Deconvolution on the cpu backend with a group of images per im2col + GEMM (the
 * backend's convolutionBatching) against one image at a time (convolutionBatchBytes 0): the top, the
 * bottom gradient and the parameter gradients must be the same bits, on shapes with groups, padding,
 * stride, dilation, 1×1 and 1-D kernels, and batches that are not a multiple of the group size.
 */
import type { ConvolutionParameter } from "@deepspark/caffe"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CpuBackend, createCpuBackend } from "../backend/cpu/cpu-backend.js"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import type { BaseConvolutionLayer } from "./base-convolution.js"
import { ConvolutionLayer } from "./convolution.js"
import { DeconvolutionLayer } from "./deconvolution.js"
import { param } from "./layer-test-kit.js"
import { firstBitDifference } from "../testing/bits.js"

interface Case {
  readonly name: string
  readonly bottom: ReadonlyArray<number>
  readonly p: ConvolutionParameter
  /** Images per group the budget is sized for. */
  readonly groupImages: number
}

const cases: ReadonlyArray<Case> = [
  { name: "3×3 pad 1, batch 7 in groups of 3", bottom: [7, 3, 9, 7], p: { num_output: 5, kernel_size: [3], pad: [1] }, groupImages: 3 },
  {
    name: "3×2 kernel, stride 2, pad 1×0, dilation 2, group 2, batch 5 in groups of 2",
    bottom: [5, 4, 11, 10],
    p: { num_output: 6, kernel_h: 3, kernel_w: 2, stride: [2], pad_h: 1, pad_w: 0, dilation: [2], group: 2 },
    groupImages: 2
  },
  { name: "1×1, group 3, batch 4 in groups of 3", bottom: [4, 6, 5, 5], p: { num_output: 9, kernel_size: [1], group: 3 }, groupImages: 3 },
  { name: "5×5 valid (8-wide rows), batch 6 in groups of 4", bottom: [6, 2, 12, 12], p: { num_output: 4, kernel_size: [5] }, groupImages: 4 },
  { name: "3×3 on 5×5 (3-wide rows), stride 1, batch 5 in one group", bottom: [5, 3, 5, 5], p: { num_output: 7, kernel_size: [3] }, groupImages: 5 },
  { name: "1-D kernel 3, pad 1, batch 3 in groups of 2", bottom: [3, 2, 13], p: { num_output: 3, kernel_size: [3], pad: [1] }, groupImages: 2 },
  { name: "two kc blocks (K = 288), stride 2, batch 3 in groups of 2", bottom: [3, 32, 9, 9], p: { num_output: 10, kernel_size: [3], stride: [2], pad: [1] }, groupImages: 2 }
]

const filled = (p: ConvolutionParameter): ConvolutionParameter => ({
  ...p,
  weight_filler: { type: "gaussian", std: 0.5 },
  bias_filler: { type: "gaussian", std: 0.5 }
})

type Kind = "Convolution" | "Deconvolution"

const makeLayer = (kind: Kind, p: ConvolutionParameter, backend: CpuBackend): BaseConvolutionLayer => {
  const ctx = { phase: "TRAIN" as const, backend, rng: new Rng(5), services: {} }
  const lp = param({ type: kind, convolution_param: filled(p) })
  return kind === "Convolution" ? new ConvolutionLayer(lp, ctx) : new DeconvolutionLayer(lp, ctx)
}

/** Column-matrix floats of one image: (conv input channels · kh · kw) × (conv output pixels). */
const columnFloats = (kind: Kind, c: Case): number => {
  const layer = makeLayer(kind, c.p, perImage)
  const bottom = [new Blob(c.bottom)]
  const top = [new Blob([1])]
  layer.setUp(bottom, top)
  const kernel = layer.blobs[0]!.countRange(2)
  const spatial = (shape: ReadonlyArray<number>) => shape.slice(2).reduce((a, b) => a * b, 1)
  // Convolution: the bottom's channels over the top's pixels; Deconvolution: the top's over the bottom's.
  return kind === "Convolution" ? c.bottom[1]! * kernel * spatial(top[0]!.shape) : c.p.num_output! * kernel * spatial(c.bottom)
}

interface Run {
  readonly method: string
  readonly arrays: ReadonlyArray<readonly [string, Float32Array]>
}

/** Forward, then backward with a random top diff; weights, bias and inputs from fixed seeds. */
const run = (kind: Kind, c: Case, backend: CpuBackend): Run => {
  const layer = makeLayer(kind, c.p, backend)
  const bottom = [new Blob(c.bottom, backend.allocator)]
  const top = [new Blob([1], backend.allocator)]
  const rng = new Rng(9)
  for (let i = 0; i < bottom[0]!.count; i++) bottom[0]!.data[i] = rng.uniform(-1, 1)
  layer.setUp(bottom, top)
  layer.reshape(bottom, top)
  // The same parameters on every backend, whatever their fillers' paths.
  const prng = new Rng(3)
  for (const b of layer.blobs) for (let i = 0; i < b.count; i++) b.data[i] = prng.uniform(-1, 1)
  layer.forward(bottom, top)
  const t = top[0]!
  for (let i = 0; i < t.count; i++) t.diff[i] = rng.uniform(-1, 1)
  layer.backward(top, [true], bottom)
  const view = (name: string, a: Float32Array, n: number) => [name, a.slice(0, n)] as const
  return {
    method: layer.forwardMethod,
    arrays: [
      view("top", t.data, t.count),
      view("bottom diff", bottom[0]!.diff, bottom[0]!.count),
      ...layer.blobs.map((b, i) => view(i === 0 ? "weight diff" : "bias diff", b.diff, b.count))
    ]
  }
}


const expectSameBits = (grouped: Run, single: Run): void => {
  for (const [i, [name, a]] of grouped.arrays.entries()) {
    const [, b] = single.arrays[i]!
    expect(a.length, name).toBeGreaterThan(0)
    expect(firstBitDifference(a, b), `${name}: first differing element`).toBe(-1)
  }
}

let perImage: CpuBackend
beforeAll(async () => {
  perImage = await createCpuBackend({ convolutionBatchBytes: 0 })
})

describe.each(["Convolution", "Deconvolution"] as const)("%s a group of images per GEMM", (kind) => {
  it.each(cases)("is bit-identical to per image: $name", async (c) => {
    const budget = 4 * columnFloats(kind, c) * c.groupImages + 3
    const grouped = await createCpuBackend({ convolutionBatchBytes: budget, convolutionBatchMinK: 1 })
    const a = run(kind, c, grouped)
    const b = run(kind, c, perImage)
    expect(a.method).toMatch(new RegExp(` over groups of ${c.groupImages} images$`))
    expect(b.method).not.toMatch(/groups/)
    expectSameBits(a, b)
  })
})

describe("a group of images per GEMM with the threaded GEMM", () => {
  let threaded: CpuBackend
  beforeAll(async () => {
    // minFlops 0: every GEMM is split over both threads.
    threaded = await createCpuBackend({ threads: 2, split: { minFlops: 0 }, convolutionBatchBytes: 1 << 23, convolutionBatchMinK: 1 })
  })
  afterAll(async () => {
    await threaded?.dispose()
  })

  it("is bit-identical to one thread per image (LeNet's conv2 shape, batch 9)", () => {
    const c: Case = { name: "LeNet conv2", bottom: [9, 20, 12, 12], p: { num_output: 50, kernel_size: [5] }, groupImages: 9 }
    for (const kind of ["Convolution", "Deconvolution"] as const) {
      const a = run(kind, c, threaded)
      expect(a.method).toMatch(/ over groups of 9 images$/)
      expectSameBits(a, run(kind, c, perImage))
    }
  })
})

describe("the group size", () => {
  const methodOn = async (c: Case, options: Parameters<typeof createCpuBackend>[0]) => {
    const backend = await createCpuBackend(options)
    const method = run("Convolution", c, backend).method
    await backend.dispose()
    return method
  }

  it("keeps the column matrix within the budget, one image at least, the batch at most", async () => {
    const c: Case = { name: "", bottom: [10, 3, 8, 8], p: { num_output: 4, kernel_size: [3] }, groupImages: 0 }
    const perImageFloats = 3 * 9 * 36
    for (const [budget, expected] of [
      [4 * perImageFloats - 1, undefined],
      [4 * perImageFloats * 3 + 100, 3],
      [1 << 30, 10]
    ] as const) {
      const method = await methodOn(c, { convolutionBatchBytes: budget, convolutionBatchMinK: 1 })
      if (expected === undefined) expect(method).toBe("im2col + GEMM")
      else expect(method).toBe(`im2col + GEMM over groups of ${expected} images`)
    }
  })

  it("by default groups only with GEMM threads, and only a K of one K block (256) or more", async () => {
    const conv2: Case = { name: "", bottom: [6, 20, 12, 12], p: { num_output: 8, kernel_size: [5] }, groupImages: 0 }
    const conv1: Case = { name: "", bottom: [6, 1, 28, 28], p: { num_output: 8, kernel_size: [5] }, groupImages: 0 }
    expect(await methodOn(conv2, {})).toBe("im2col + GEMM")
    expect(await methodOn(conv2, { threads: 2 })).toBe("im2col + GEMM over groups of 6 images")
    expect(await methodOn(conv1, { threads: 2 })).toBe("im2col + GEMM")
    // K = 25 groups once the minimum allows it; one thread groups once a budget is given.
    expect(await methodOn(conv1, { threads: 2, convolutionBatchMinK: 25 })).toBe("im2col + GEMM over groups of 6 images")
    expect(await methodOn(conv2, { convolutionBatchBytes: 1 << 22 })).toBe("im2col + GEMM over groups of 6 images")
  })
})
