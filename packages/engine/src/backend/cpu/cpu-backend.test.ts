import { beforeAll, describe, expect, it } from "vitest"
import type { ConvGeometry, LrnGeometry, PoolGeometry } from "../backend.js"
import { referenceBackend as ref } from "../reference.js"
import { type CpuBackend, createCpuBackend } from "./cpu-backend.js"

// Deterministic data (a small LCG): failures reproduce.
let seed = 12345
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed / 2 ** 32 - 0.5
}
const randomArray = (n: number, make: (n: number) => Float32Array = (m) => new Float32Array(m)): Float32Array => {
  const a = make(n)
  for (let i = 0; i < n; i++) a[i] = rand()
  return a
}

/** Largest |a−b| / max(|b|, floor) over the arrays (floor keeps near-zero entries from dominating). */
const relError = (a: Float32Array, b: Float32Array, floor = 1e-3): number => {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!) !== Number.isNaN(b[i]!)) return Infinity
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor))
  }
  return worst
}
/**
 * max|a−b| / max|b|: the norm-wise relative error, the meaningful measure for sums of products whose
 * individual results can cancel to near zero (GEMM, GEMV), where float32 accumulation order matters.
 */
const normError = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!) !== Number.isNaN(b[i]!)) return Infinity
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / Math.max(scale, 1e-30)
}
const firstMismatch = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : Math.min(a.length, b.length)
}

const variants: ReadonlyArray<{ label: string; fma: boolean }> = [
  { label: "relaxed FMA", fma: true },
  { label: "mul+add", fma: false }
]

describe.each(variants)("cpu backend ($label)", ({ fma }) => {
  let cpu: CpuBackend
  beforeAll(async () => {
    cpu = await createCpuBackend({ fma })
  })
  // Operands either in ordinary JS memory (staged through scratch) or inside the wasm heap (in place).
  const places = () => [
    { where: "js heap", make: (n: number) => new Float32Array(n) },
    { where: "wasm heap", make: (n: number) => cpu.allocator.allocFloat32(n) }
  ]

  it("reports its SIMD path", () => {
    expect(cpu.name).toBe("cpu")
    expect(cpu.description).toContain(fma ? "FMA" : "no FMA")
  })

  const gemmCases: Array<[boolean, boolean, number, number, number, number, number]> = []
  for (const [M, N, K] of [
    [1, 1, 1],
    [1, 7, 3],
    [5, 1, 9],
    [7, 13, 5],
    [13, 17, 31],
    [20, 576, 25],
    [64, 10, 500],
    [61, 37, 300],
    [130, 259, 517]
  ] as const) {
    for (const tA of [false, true]) for (const tB of [false, true]) gemmCases.push([tA, tB, M, N, K, 0.75, 0.5])
  }
  gemmCases.push([false, false, 33, 29, 11, 1, 0], [true, false, 33, 29, 11, -2, 1], [false, true, 9, 9, 0, 1, 0.5])

  it.each(gemmCases)("gemm tA=%s tB=%s M=%i N=%i K=%i alpha=%f beta=%f", (tA, tB, M, N, K, alpha, beta) => {
    for (const { make } of places()) {
      const aOff = 3
      const bOff = 1
      const cOff = 5
      const A = randomArray(aOff + M * K + 2, make)
      const B = randomArray(bOff + K * N + 2, make)
      const C = randomArray(cOff + M * N + 3, make)
      const expected = Float32Array.from(C)
      if (beta === 0) C.fill(Number.NaN, cOff, cOff + M * N) // beta 0 must not read C
      cpu.gemm(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff)
      ref.gemm(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, expected, cOff)
      expect(normError(Float32Array.from(C), expected)).toBeLessThan(1e-5)
    }
  })

  it("gemm on large K and N exercises every blocking loop (kc, mc, nc edges)", () => {
    const [M, N, K] = [250, 2100, 300]
    const A = randomArray(M * K)
    const B = randomArray(K * N)
    const C = randomArray(M * N)
    const expected = Float32Array.from(C)
    cpu.gemm(false, false, M, N, K, 1, A, 0, B, 0, 1, C, 0)
    ref.gemm(false, false, M, N, K, 1, A, 0, B, 0, 1, expected, 0)
    expect(normError(C, expected)).toBeLessThan(1e-5)
  })

  it("reads operands in place and runs K = 1 by the rank-1 kernel with the packed path's exact sums (bit-identical C, every transpose case)", async () => {
    const packed = await createCpuBackend({ fma, blocking: { directBMaxM: 0, directAMaxN: 0, rank1: false } })
    const direct = await createCpuBackend({ fma, blocking: { directBMaxM: 1 << 30, directAMaxN: 1 << 30, rank1: true } })
    for (const [M, N, K] of [
      [20, 576, 1],
      [37, 13, 1],
      [20, 576, 25],
      [50, 64, 500],
      [13, 37, 300],
      [7, 3, 9],
      [130, 2100, 260]
    ] as const) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const [alpha, beta] of [[1, 0], [1, 1], [0.5, 0.25]] as const) {
            const A = randomArray(M * K)
            const B = randomArray(K * N)
            const C0 = randomArray(M * N)
            const viaPacked = Float32Array.from(C0)
            const viaDirect = Float32Array.from(C0)
            packed.gemm(tA, tB, M, N, K, alpha, A, 0, B, 0, beta, viaPacked, 0)
            direct.gemm(tA, tB, M, N, K, alpha, A, 0, B, 0, beta, viaDirect, 0)
            expect(firstMismatch(viaDirect, viaPacked), `tA=${tA} tB=${tB} ${M}×${N}×${K} alpha=${alpha} beta=${beta}`).toBe(-1)
          }
        }
      }
    }
  })

  it.each([
    [false, 1, 1],
    [false, 7, 13],
    [true, 7, 13],
    [false, 64, 500],
    [true, 50, 33]
  ] as const)("gemv transA=%s M=%i N=%i", (tA, M, N) => {
    for (const { make } of places()) {
      for (const beta of [0, 1, 0.25]) {
        const A = randomArray(2 + M * N, make)
        const x = randomArray(1 + (tA ? M : N), make)
        const y = randomArray(4 + (tA ? N : M), make)
        const expected = Float32Array.from(y)
        if (beta === 0) y.fill(Number.NaN, 4)
        cpu.gemv(tA, M, N, 1.5, A, 2, x, 1, beta, y, 4)
        ref.gemv(tA, M, N, 1.5, A, 2, x, 1, beta, expected, 4)
        expect(normError(Float32Array.from(y), expected)).toBeLessThan(1e-5)
      }
    }
  })

  it("axpy and dot with offsets and tails", () => {
    for (const { make } of places()) {
      for (const n of [1, 3, 4, 5, 17, 1000]) {
        const x = randomArray(n + 2, make)
        const y = randomArray(n + 3, make)
        const expected = Float32Array.from(y)
        cpu.axpy(n, -0.3, x, 2, y, 3)
        ref.axpy(n, -0.3, x, 2, expected, 3)
        expect(normError(Float32Array.from(y), expected)).toBeLessThan(1e-5)
        const d = cpu.dot(n, x, 2, y, 3)
        const e = ref.dot(n, x, 2, y, 3)
        expect(Math.abs(d - e)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(e)))
      }
    }
  })

  const convGeometry = (
    channels: number,
    height: number,
    width: number,
    kernelH: number,
    kernelW: number,
    padH: number,
    padW: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number
  ): ConvGeometry => ({
    channels,
    height,
    width,
    kernelH,
    kernelW,
    padH,
    padW,
    strideH,
    strideW,
    dilationH,
    dilationW,
    outH: Math.floor((height + 2 * padH - (dilationH * (kernelH - 1) + 1)) / strideH) + 1,
    outW: Math.floor((width + 2 * padW - (dilationW * (kernelW - 1) + 1)) / strideW) + 1
  })
  const convCases = [
    convGeometry(1, 28, 28, 5, 5, 0, 0, 1, 1, 1, 1), // LeNet conv1
    convGeometry(20, 12, 12, 5, 5, 0, 0, 1, 1, 1, 1), // LeNet conv2 (im2col_valid, 8-wide rows)
    convGeometry(2, 9, 13, 3, 3, 0, 0, 1, 1, 1, 1), // im2col_valid, outW 11: two vectors and an overlapping one
    convGeometry(3, 6, 9, 2, 3, 0, 0, 1, 1, 1, 1), // im2col_valid, outW 7: an overlapping last vector
    convGeometry(2, 6, 5, 2, 3, 0, 0, 1, 1, 1, 1), // outW 3: the general kernel
    convGeometry(32, 16, 16, 5, 5, 2, 2, 1, 1, 1, 1), // CIFAR-10 quick conv2: padded, via pad_image / crop_image
    convGeometry(3, 7, 10, 3, 5, 1, 3, 1, 1, 1, 1), // unequal pads, the pad wider than the kernel half
    convGeometry(3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1),
    convGeometry(2, 11, 10, 3, 5, 2, 1, 2, 3, 1, 1),
    convGeometry(2, 9, 9, 3, 3, 2, 2, 1, 2, 2, 2),
    convGeometry(1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1),
    convGeometry(1, 4, 4, 3, 3, 3, 3, 4, 4, 1, 1)
  ]
  it.each(convCases)("im2col / col2im are exact: %o", (g) => {
    for (const { make } of places()) {
      const imageLen = g.channels * g.height * g.width
      const colLen = g.channels * g.kernelH * g.kernelW * g.outH * g.outW
      const data = randomArray(3 + imageLen, make)
      const col = make(colLen)
      const expectedCol = new Float32Array(colLen)
      cpu.im2col(g, data, 3, col)
      ref.im2col(g, data, 3, expectedCol)
      expect(firstMismatch(col, expectedCol)).toBe(-1)
      const grad = randomArray(colLen, make)
      const image = randomArray(2 + imageLen, make)
      const expectedImage = Float32Array.from(image)
      cpu.col2im(g, grad, image, 2)
      ref.col2im(g, grad, expectedImage, 2)
      expect(firstMismatch(image, expectedImage)).toBe(-1)
    }
  })

  const poolGeometry = (
    num: number,
    channels: number,
    height: number,
    width: number,
    k: number,
    pad: number,
    stride: number
  ): PoolGeometry => {
    // Caffe's pooled size (ceil), with the last window clipped to start inside the padded image.
    let pooledH = Math.ceil((height + 2 * pad - k) / stride) + 1
    let pooledW = Math.ceil((width + 2 * pad - k) / stride) + 1
    if (pad > 0) {
      if ((pooledH - 1) * stride >= height + pad) pooledH--
      if ((pooledW - 1) * stride >= width + pad) pooledW--
    }
    return { num, channels, height, width, kernelH: k, kernelW: k, padH: pad, padW: pad, strideH: stride, strideW: stride, pooledH, pooledW }
  }
  const poolCases = [
    poolGeometry(2, 3, 24, 24, 2, 0, 2),
    poolGeometry(1, 2, 10, 22, 2, 0, 2), // 2×2 fast path with a scalar tail (11 columns)
    poolGeometry(1, 2, 9, 9, 2, 0, 2), // partial last window: generic path
    poolGeometry(1, 2, 7, 9, 3, 1, 2),
    poolGeometry(2, 1, 5, 5, 3, 0, 1),
    poolGeometry(2, 3, 32, 32, 3, 0, 2), // CIFAR-10 quick: 3×3/2 SIMD interior, ragged last row/column
    poolGeometry(1, 2, 27, 27, 3, 0, 2), // AlexNet's pooled sizes: whole windows to the edge
    poolGeometry(1, 2, 13, 21, 3, 0, 2)
  ]
  it.each(poolCases)("pooling forward/backward are exact: %o", (g) => {
    for (const { make } of places()) {
      const inLen = g.num * g.channels * g.height * g.width
      const outLen = g.num * g.channels * g.pooledH * g.pooledW
      const bottom = randomArray(inLen, make)
      // Few distinct values: many ties, so the argmax tie-breaking (first strict maximum) is checked.
      for (let i = 0; i < inLen; i++) bottom[i] = Math.round(bottom[i]! * 4)
      const top = make(outLen)
      const mask = new Int32Array(outLen)
      const eTop = new Float32Array(outLen)
      const eMask = new Int32Array(outLen)
      cpu.maxPoolForward(g, bottom, top, mask)
      ref.maxPoolForward(g, bottom, eTop, eMask)
      expect(firstMismatch(top, eTop)).toBe(-1)
      expect(firstMismatch(mask, eMask)).toBe(-1)
      const topDiff = randomArray(outLen, make)
      const bd = randomArray(inLen, make)
      const eBd = new Float32Array(inLen)
      cpu.maxPoolBackward(g, topDiff, mask, bd)
      ref.maxPoolBackward(g, topDiff, eMask, eBd)
      expect(firstMismatch(bd, eBd)).toBe(-1)
      cpu.avePoolForward(g, bottom, top)
      ref.avePoolForward(g, bottom, eTop)
      expect(firstMismatch(top, eTop)).toBe(-1)
      // Values whose sums round and then cancel (±1e12 beside small ones), so that a window's average
      // shows the order its cells were added in: the reference's (3×3 windows are unrolled).
      const fine = randomArray(inLen, make)
      for (let i = 0; i < inLen; i++) fine[i] = fine[i]! + (i % 5 === 0 ? 1e12 : i % 5 === 2 ? -1e12 : 0)
      cpu.avePoolForward(g, fine, top)
      ref.avePoolForward(g, fine, eTop)
      expect(firstMismatch(top, eTop)).toBe(-1)
      cpu.avePoolBackward(g, topDiff, bd)
      ref.avePoolBackward(g, topDiff, eBd)
      expect(firstMismatch(bd, eBd)).toBe(-1)
    }
  })

  it.each([0, 0.25, -1.5])("relu forward/backward are exact (slope %f), in place too", (slope) => {
    for (const { make } of places()) {
      for (const n of [1, 6, 203]) {
        const x = randomArray(n, make)
        x[0] = 0
        const y = make(n)
        const ey = new Float32Array(n)
        cpu.reluForward(x, y, n, slope)
        ref.reluForward(x, ey, n, slope)
        expect(firstMismatch(y, ey)).toBe(-1)
        const dy = randomArray(n, make)
        const dx = make(n)
        const edx = new Float32Array(n)
        cpu.reluBackward(x, dy, dx, n, slope)
        ref.reluBackward(x, dy, edx, n, slope)
        expect(firstMismatch(dx, edx)).toBe(-1)
        cpu.reluBackward(x, dy, dy, n, slope)
        expect(firstMismatch(dy, edx)).toBe(-1)
        cpu.reluForward(x, x, n, slope)
        expect(firstMismatch(x, ey)).toBe(-1)
      }
    }
  })

  it.each([
    [64, 10, 1],
    [2, 3, 1],
    [3, 5, 7],
    [2, 4, 8],
    [1, 1, 1]
  ] as const)("softmax outer=%i channels=%i inner=%i", (outer, channels, inner) => {
    for (const { make } of places()) {
      const n = outer * channels * inner
      const x = make(n)
      for (let i = 0; i < n; i++) x[i] = rand() * 40
      const y = make(n)
      const ey = new Float32Array(n)
      cpu.softmaxForward(x, y, outer, channels, inner)
      ref.softmaxForward(x, ey, outer, channels, inner)
      expect(relError(y, ey, 1e-30)).toBeLessThan(1e-5)
    }
  })

  it.each([
    { num: 2, channels: 7, height: 3, width: 5, size: 5, alpha: 1e-4, beta: 0.75, k: 1 },
    { num: 1, channels: 3, height: 4, width: 4, size: 3, alpha: 2, beta: 0.6, k: 2 },
    { num: 1, channels: 1, height: 1, width: 1, size: 1, alpha: 0.5, beta: 0.75, k: 1 }
  ] satisfies LrnGeometry[])("LRN forward/backward %o", (g) => {
    for (const { make } of places()) {
      const n = g.num * g.channels * g.height * g.width
      const x = randomArray(n, make)
      const y = make(n)
      const scale = make(n)
      const ey = new Float32Array(n)
      const es = new Float32Array(n)
      cpu.lrnForward(g, x, y, scale)
      ref.lrnForward(g, x, ey, es)
      expect(relError(scale, es)).toBeLessThan(1e-5)
      expect(relError(y, ey)).toBeLessThan(1e-5)
      const dy = randomArray(n, make)
      const dx = make(n)
      const edx = new Float32Array(n)
      cpu.lrnBackward(g, x, ey, es, dy, dx)
      ref.lrnBackward(g, x, ey, es, dy, edx)
      expect(relError(dx, edx)).toBeLessThan(1e-5)
    }
  })
})
