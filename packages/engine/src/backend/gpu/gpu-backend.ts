/**
 * The `gpu` backend: every Backend kernel as a gpu.js kernel (compiled once per shape), run
 * synchronously — on gpu.js's `webgpu` backend when Dawn offers a hardware adapter (through a worker,
 * worker-kernels.ts), `headlessgl` when opted in, else `webasm` (see chooseGpuJsMode). Host-side JavaScript only moves data: sub-array views in, flat results out (the GEMM
 * result is scattered with alpha/beta applied, pooling results de-interleaved); no op computes on the host
 * except dot's final sum of per-chunk partials (float64, as the interface asks).
 *
 * Numerics: kernels accumulate in float32 (the reference accumulates in float64), so GEMM, softmax, LRN
 * and AVE pooling agree to ~1e-6 relative; im2col, col2im, MAX pooling and ReLU (slope 0) are exact.
 */
import type { Backend, BlobAllocator, ConvGeometry, LrnGeometry, PoolGeometry } from "../backend.js"
import { heapAllocator } from "../backend.js"
import { type GpuJsModeRequest, GpuJsKernels, type KernelRunner, chooseGpuJsMode } from "./gpujs-runtime.js"
import * as src from "./kernel-sources.js"

export interface GpuBackendOptions {
  /** gpu.js backend: `auto` (default: headlessgl only when opted in, else webasm), or a fixed one. */
  readonly mode?: GpuJsModeRequest
  readonly env?: NodeJS.ProcessEnv
}

const DOT_CHUNK = 1024

export class GpuBackend implements Backend {
  readonly name = "gpu"
  readonly allocator: BlobAllocator = heapAllocator
  private readonly padded = new Map<string, Float32Array>()
  private readonly maskScratch = new Map<number, Float32Array>()

  constructor(
    readonly kernels: KernelRunner,
    private readonly reasons: ReadonlyArray<string>
  ) {}

  /** Which gpu.js kernel class ran (known after the first kernel call) and why that mode was chosen. */
  get description(): string {
    const ran = this.kernels.ranOn ?? "no kernel run yet"
    return `gpu.js 2.24.1 ${this.kernels.mode} (${ran}, ${this.kernels.kernelCount} kernels compiled); ${this.reasons.join("; ")}`
  }

  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    aOffset: number,
    B: Float32Array,
    bOffset: number,
    beta: number,
    C: Float32Array,
    cOffset: number
  ): void {
    if (M <= 0 || N <= 0) return
    if (K <= 0) return scaleC(M, N, beta, C, cOffset)
    const blocks = Math.ceil(M / 4)
    const out = this.kernels.run(
      `gemm:${+transA}${+transB}:${M}x${N}x${K}`,
      () => ({ source: src.gemmSource, constants: { M, N, K, ...src.gemmStrides(transA, transB, M, N, K) }, threads: blocks * N, components: 4 }),
      [A.subarray(aOffset, aOffset + M * K), B.subarray(bOffset, bOffset + K * N)]
    )
    // out[((i >> 2)·N + j)·4 + (i & 3)] = op(A)·op(B) at [i, j].
    for (let i = 0; i < M; i++) {
      const src0 = (i >> 2) * N * 4 + (i & 3)
      const c0 = cOffset + i * N
      if (beta === 0) for (let j = 0; j < N; j++) C[c0 + j] = alpha * out[src0 + j * 4]!
      else for (let j = 0; j < N; j++) C[c0 + j] = alpha * out[src0 + j * 4]! + beta * C[c0 + j]!
    }
  }

  gemv(
    transA: boolean,
    M: number,
    N: number,
    alpha: number,
    A: Float32Array,
    aOffset: number,
    x: Float32Array,
    xOffset: number,
    beta: number,
    y: Float32Array,
    yOffset: number
  ): void {
    // y = op(A)·x is the GEMM with one column: op(A) is (yLen × xLen), x is (xLen × 1).
    const yLen = transA ? N : M
    const xLen = transA ? M : N
    if (yLen <= 0) return
    if (xLen <= 0) return scaleC(yLen, 1, beta, y, yOffset)
    const blocks = Math.ceil(yLen / 4)
    const out = this.kernels.run(
      `gemv:${+transA}:${M}x${N}`,
      () => ({ source: src.gemmSource, constants: { M: yLen, N: 1, K: xLen, ...src.gemmStrides(transA, false, yLen, 1, xLen) }, threads: blocks, components: 4 }),
      [A.subarray(aOffset, aOffset + M * N), x.subarray(xOffset, xOffset + xLen)]
    )
    for (let i = 0; i < yLen; i++) y[yOffset + i] = beta === 0 ? alpha * out[i]! : alpha * out[i]! + beta * y[yOffset + i]!
  }

  im2col(g: ConvGeometry, data: Float32Array, dataOffset: number, col: Float32Array): void {
    const colLen = g.channels * g.kernelH * g.kernelW * g.outH * g.outW
    if (colLen <= 0) return
    const HP = g.height + 2 * g.padH
    const WP = g.width + 2 * g.padW
    const out = this.kernels.run(
      `im2col:${convKey(g)}`,
      () => ({
        source: src.im2colSource,
        constants: { OW: g.outW, OH: g.outH, KW: g.kernelW, KH: g.kernelH, HP, WP, SH: g.strideH, SW: g.strideW, DH: g.dilationH, DW: g.dilationW },
        threads: colLen,
        components: 1
      }),
      [this.paddedImage(g, data, dataOffset)]
    )
    col.set(out)
  }

  col2im(g: ConvGeometry, col: Float32Array, data: Float32Array, dataOffset: number): void {
    const imageLen = g.channels * g.height * g.width
    const colLen = g.channels * g.kernelH * g.kernelW * g.outH * g.outW
    if (imageLen <= 0) return
    if (colLen <= 0) return void data.fill(0, dataOffset, dataOffset + imageLen)
    const out = this.kernels.run(
      `col2im:${convKey(g)}`,
      () => ({
        source: src.col2imSource,
        constants: {
          W: g.width, H: g.height, PH: g.padH, PW: g.padW, KH: g.kernelH, KW: g.kernelW, DH: g.dilationH, DW: g.dilationW,
          SH: g.strideH, SW: g.strideW, OH: g.outH, OW: g.outW, LAST: colLen - 1
        },
        threads: imageLen,
        components: 1
      }),
      [col.subarray(0, colLen)]
    )
    data.set(out, dataOffset)
  }

  maxPoolForward(g: PoolGeometry, bottom: Float32Array, top: Float32Array, mask: Int32Array): void {
    const { inLen, outLen } = poolSizes(g)
    if (outLen <= 0) return
    const out = this.kernels.run(
      `maxpool:${poolKey(g)}`,
      () => ({ source: src.maxPoolForwardSource, constants: poolConstants(g), threads: outLen, components: 2 }),
      [bottom.subarray(0, inLen)]
    )
    for (let i = 0; i < outLen; i++) {
      top[i] = out[2 * i]!
      mask[i] = out[2 * i + 1]!
    }
  }

  maxPoolBackward(g: PoolGeometry, topDiff: Float32Array, mask: Int32Array, bottomDiff: Float32Array): void {
    const { inLen, outLen } = poolSizes(g)
    if (inLen <= 0) return
    if (outLen <= 0) return void bottomDiff.fill(0, 0, inLen)
    // Indices are < 2^24 (one plane), so float32 carries the mask exactly.
    let m = this.maskScratch.get(outLen)
    if (!m) this.maskScratch.set(outLen, (m = new Float32Array(outLen)))
    for (let i = 0; i < outLen; i++) m[i] = mask[i]!
    const out = this.kernels.run(
      `maxpool-bwd:${poolKey(g)}`,
      () => ({ source: src.maxPoolBackwardSource, constants: poolBackwardConstants(g), threads: inLen, components: 1 }),
      [topDiff.subarray(0, outLen), m]
    )
    bottomDiff.set(out)
  }

  avePoolForward(g: PoolGeometry, bottom: Float32Array, top: Float32Array): void {
    const { inLen, outLen } = poolSizes(g)
    if (outLen <= 0) return
    const out = this.kernels.run(
      `avepool:${poolKey(g)}`,
      () => ({ source: src.avePoolForwardSource, constants: poolConstants(g), threads: outLen, components: 1 }),
      [bottom.subarray(0, inLen)]
    )
    top.set(out)
  }

  avePoolBackward(g: PoolGeometry, topDiff: Float32Array, bottomDiff: Float32Array): void {
    const { inLen, outLen } = poolSizes(g)
    if (inLen <= 0) return
    if (outLen <= 0) return void bottomDiff.fill(0, 0, inLen)
    const out = this.kernels.run(
      `avepool-bwd:${poolKey(g)}`,
      () => ({ source: src.avePoolBackwardSource, constants: poolBackwardConstants(g), threads: inLen, components: 1 }),
      [topDiff.subarray(0, outLen)]
    )
    bottomDiff.set(out)
  }

  reluForward(x: Float32Array, y: Float32Array, n: number, slope: number): void {
    if (n <= 0) return
    const out = this.kernels.run(`relu:${n}`, () => ({ source: src.reluForwardSource, constants: {}, threads: n, components: 1 }), [x.subarray(0, n), slope])
    y.set(out)
  }

  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, slope: number): void {
    if (n <= 0) return
    const out = this.kernels.run(
      `relu-bwd:${n}`,
      () => ({ source: src.reluBackwardSource, constants: {}, threads: n, components: 1 }),
      [x.subarray(0, n), dy.subarray(0, n), slope]
    )
    dx.set(out)
  }

  softmaxForward(x: Float32Array, y: Float32Array, outer: number, channels: number, inner: number): void {
    const n = outer * channels * inner
    if (n <= 0) return
    const constants = { C: channels, INNER: inner }
    const xs = x.subarray(0, n)
    const stats = this.kernels.run(
      `softmax-stats:${outer}x${channels}x${inner}`,
      () => ({ source: src.softmaxStatsSource, constants, threads: outer * inner, components: 2 }),
      [xs]
    )
    const out = this.kernels.run(
      `softmax:${outer}x${channels}x${inner}`,
      () => ({ source: src.softmaxNormalizeSource, constants, threads: n, components: 1 }),
      [xs, stats]
    )
    y.set(out)
  }

  lrnForward(g: LrnGeometry, x: Float32Array, y: Float32Array, scale: Float32Array): void {
    const n = g.num * g.channels * g.height * g.width
    if (n <= 0) return
    const out = this.kernels.run(
      `lrn:${lrnKey(g)}`,
      () => ({
        source: src.lrnForwardSource,
        constants: { ...lrnConstants(g, n), K: g.k, ALPHA_N: g.alpha / g.size },
        threads: n,
        components: 2
      }),
      [x.subarray(0, n)]
    )
    for (let i = 0; i < n; i++) {
      scale[i] = out[2 * i]!
      y[i] = out[2 * i + 1]!
    }
  }

  lrnBackward(g: LrnGeometry, x: Float32Array, y: Float32Array, scale: Float32Array, dy: Float32Array, dx: Float32Array): void {
    const n = g.num * g.channels * g.height * g.width
    if (n <= 0) return
    const out = this.kernels.run(
      `lrn-bwd:${lrnKey(g)}`,
      () => ({
        source: src.lrnBackwardSource,
        constants: { ...lrnConstants(g, n), RATIO: (2 * g.alpha * g.beta) / g.size },
        threads: n,
        components: 1
      }),
      [x.subarray(0, n), y.subarray(0, n), scale.subarray(0, n), dy.subarray(0, n)]
    )
    dx.set(out)
  }

  axpy(n: number, alpha: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): void {
    if (n <= 0) return
    const out = this.kernels.run(
      `axpy:${n}`,
      () => ({ source: src.axpySource, constants: {}, threads: n, components: 1 }),
      [x.subarray(xOffset, xOffset + n), y.subarray(yOffset, yOffset + n), alpha]
    )
    y.set(out, yOffset)
  }

  dot(n: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): number {
    if (n <= 0) return 0
    const chunks = Math.ceil(n / DOT_CHUNK)
    const chunk = Math.min(n, DOT_CHUNK)
    const partials = this.kernels.run(
      `dot:${n}`,
      () => ({ source: src.dotPartialSource, constants: { CHUNK: chunk, LAST: n - 1 }, threads: chunks, components: 1 }),
      [x.subarray(xOffset, xOffset + n), y.subarray(yOffset, yOffset + n)]
    )
    let s = 0
    for (let i = 0; i < chunks; i++) s += partials[i]!
    return s
  }

  /** Releases the compiled kernels (and gpu.js's memory). */
  destroy(): void {
    this.kernels.destroy()
  }

  /** The image with its zero border materialised, so the im2col kernel needs no bounds branches. */
  private paddedImage(g: ConvGeometry, data: Float32Array, offset: number): Float32Array {
    const plane = g.height * g.width
    if (g.padH === 0 && g.padW === 0) return data.subarray(offset, offset + g.channels * plane)
    const HP = g.height + 2 * g.padH
    const WP = g.width + 2 * g.padW
    const key = `${g.channels}x${HP}x${WP}`
    let p = this.padded.get(key)
    if (!p) this.padded.set(key, (p = new Float32Array(g.channels * HP * WP))) // borders stay zero
    for (let c = 0; c < g.channels; c++)
      for (let h = 0; h < g.height; h++) {
        const from = offset + c * plane + h * g.width
        p.set(data.subarray(from, from + g.width), (c * HP + h + g.padH) * WP + g.padW)
      }
    return p
  }
}

/** C ← beta·C (a GEMM with an empty inner dimension). */
const scaleC = (M: number, N: number, beta: number, C: Float32Array, cOffset: number): void => {
  for (let i = 0; i < M * N; i++) C[cOffset + i] = beta === 0 ? 0 : beta * C[cOffset + i]!
}

const convKey = (g: ConvGeometry): string =>
  [g.channels, g.height, g.width, g.kernelH, g.kernelW, g.padH, g.padW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.outH, g.outW].join("x")

const poolKey = (g: PoolGeometry): string =>
  [g.num, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.padH, g.padW, g.strideH, g.strideW, g.pooledH, g.pooledW].join("x")

const poolSizes = (g: PoolGeometry) => ({
  inLen: g.num * g.channels * g.height * g.width,
  outLen: g.num * g.channels * g.pooledH * g.pooledW
})

const poolConstants = (g: PoolGeometry): Record<string, number> => ({
  PW: g.pooledW, PH: g.pooledH, SH: g.strideH, SW: g.strideW, PADH: g.padH, PADW: g.padW, KH: g.kernelH, KW: g.kernelW,
  H: g.height, W: g.width, PLANE: g.height * g.width, LAST: poolSizes(g).inLen - 1
})

const poolBackwardConstants = (g: PoolGeometry): Record<string, number> => ({
  W: g.width, H: g.height, PADH: g.padH, PADW: g.padW, KH: g.kernelH, KW: g.kernelW, SH: g.strideH, SW: g.strideW,
  PH: g.pooledH, PW: g.pooledW,
  // At most ceil(k/s) windows along an axis cover one pixel.
  NH: Math.ceil(g.kernelH / g.strideH), NW: Math.ceil(g.kernelW / g.strideW), LAST: poolSizes(g).outLen - 1
})

const lrnKey = (g: LrnGeometry): string => [g.num, g.channels, g.height, g.width, g.size, g.alpha, g.beta, g.k].join("x")

const lrnConstants = (g: LrnGeometry, n: number): Record<string, number> => {
  if (g.size % 2 !== 1) throw new RangeError(`LRN local_size must be odd, got ${g.size}`)
  return { PLANE: g.height * g.width, C: g.channels, SIZE: g.size, HALF: (g.size - 1) / 2, NEG_BETA: -g.beta, LAST: n - 1 }
}

/** Builds the gpu backend on an explicitly chosen gpu.js backend (see chooseGpuJsMode). */
export const createGpuBackend = async (options: GpuBackendOptions = {}): Promise<GpuBackend> => {
  const choice = await chooseGpuJsMode(options.mode ?? "auto", options.env ?? process.env)
  const kernels = choice.kernels ?? new GpuJsKernels(choice.mode === "headlessgl" ? "headlessgl" : "webasm")
  return new GpuBackend(kernels, choice.reasons)
}
