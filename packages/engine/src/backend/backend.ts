/**
 * The seam between layers and the kernels that compute them. A layer only ever calls these methods on
 * plain Float32Array storage (with element offsets); it never looks at a backend's internals, so
 * swapping `reference` (plain loops, the correctness oracle), `cpu` (WebAssembly SIMD) or `gpu` (gpu.js)
 * changes no layer code.
 *
 * Storage: blobs get their Float32Arrays from `allocator` so a backend can place them where its kernels
 * read without copying (e.g. inside WebAssembly memory). Kernels must accept any Float32Array.
 */
import { allocationStats } from "../core/allocation-stats.js"
import type { BulkRandom } from "../core/rng.js"

export interface BlobAllocator {
  allocFloat32(count: number): Float32Array
  /** Int32 storage the kernels read in place (pooling masks); absent: ordinary Int32Arrays. */
  allocInt32?(count: number): Int32Array
}

export const heapAllocator: BlobAllocator = {
  allocFloat32: (count) => {
    if (allocationStats.enabled) allocationStats.record("heap-array", count * 4)
    return new Float32Array(count)
  },
  allocInt32: (count) => {
    if (allocationStats.enabled) allocationStats.record("heap-array", count * 4)
    return new Int32Array(count)
  }
}

/** `count` zeroed int32s from `allocator` (its own memory when it has one). */
export const allocInt32 = (allocator: BlobAllocator, count: number): Int32Array =>
  allocator.allocInt32 ? allocator.allocInt32(count) : heapAllocator.allocInt32!(count)

/** One image's im2col geometry (Caffe's 2-D case). */
export interface ConvGeometry {
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly kernelH: number
  readonly kernelW: number
  readonly padH: number
  readonly padW: number
  readonly strideH: number
  readonly strideW: number
  readonly dilationH: number
  readonly dilationW: number
  /** Output spatial size: (in + 2p − (d(k−1)+1)) / s + 1. */
  readonly outH: number
  readonly outW: number
}

/** output[outOffset …] (numOutput × outH × outW) = weights ∗ input[inOffset …] for one image. */
export type DirectConvolution = (
  weights: Float32Array,
  input: Float32Array,
  inOffset: number,
  output: Float32Array,
  outOffset: number
) => void

/**
 * im2col + GEMM over a group of images at once: the images' column matrices side by side in one matrix
 * (row length images·outH·outW), so one GEMM with N = images·outH·outW replaces one per image. Each
 * output element keeps its k order and K blocks (only N grows), so results are bit-identical to per image.
 */
export interface ConvolutionBatching {
  /**
   * Images per group for a convolution of `images` images whose column matrix is kernelDim·groups ×
   * pixels floats per image (1: per image); asked once per shape, at reshape.
   */
  groupImages(kernelDim: number, columnFloats: number, pixels: number, images: number): number
  /** im2col of one image into columns [colOffset, colOffset + outH·outW) of rows `colRowLength` floats long. */
  im2col(g: ConvGeometry, data: Float32Array, dataOffset: number, col: Float32Array, colOffset: number, colRowLength: number): void
  /** col2im (overwrites the image) from columns [colOffset, colOffset + outH·outW) of rows `colRowLength` long. */
  col2im(g: ConvGeometry, col: Float32Array, colOffset: number, colRowLength: number, data: Float32Array, dataOffset: number): void
  /**
   * For b < blocks and r < rows copies `length` floats from src[srcOffset + b·srcBlock + r·srcRow] to
   * dst[dstOffset + b·dstBlock + r·dstRow]: the images of a group ↔ their columns side by side.
   */
  copyBlocks(
    blocks: number,
    rows: number,
    length: number,
    src: Float32Array,
    srcOffset: number,
    srcBlock: number,
    srcRow: number,
    dst: Float32Array,
    dstOffset: number,
    dstBlock: number,
    dstRow: number
  ): void
}

/** Pooling geometry over a whole (num × channels) batch. */
export interface PoolGeometry {
  readonly num: number
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly kernelH: number
  readonly kernelW: number
  readonly padH: number
  readonly padW: number
  readonly strideH: number
  readonly strideW: number
  readonly pooledH: number
  readonly pooledW: number
}

/** Cross-channel LRN geometry. */
export interface LrnGeometry {
  readonly num: number
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly size: number
  readonly alpha: number
  readonly beta: number
  readonly k: number
}

export interface Backend {
  /** "reference" | "cpu" | "gpu". */
  readonly name: string
  /** Human-readable detail logged at start-up (e.g. "wasm simd128 + relaxed FMA"). */
  readonly description: string
  readonly allocator: BlobAllocator

  /** C[M×N] = alpha·op(A)·op(B) + beta·C, row-major; op(A) is M×K, op(B) is K×N. */
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
  ): void

  /** y = alpha·op(A)·x + beta·y; A is M×N row-major, op(A) = Aᵀ when transA. */
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
  ): void

  /** Writes col[(c·kh·kw) × (outH·outW)] from one image starting at data[dataOffset]. */
  im2col(g: ConvGeometry, data: Float32Array, dataOffset: number, col: Float32Array): void
  /** Overwrites the image at data[dataOffset] with the sum of col's contributions (Caffe's col2im). */
  col2im(g: ConvGeometry, col: Float32Array, data: Float32Array, dataOffset: number): void

  /** MAX pooling; `mask` receives the argmax index (h·W + w) within each input plane. */
  maxPoolForward(g: PoolGeometry, bottom: Float32Array, top: Float32Array, mask: Int32Array): void
  /** Adds nothing: overwrites bottomDiff (zeroes it, then routes each top diff to its argmax). */
  maxPoolBackward(g: PoolGeometry, topDiff: Float32Array, mask: Int32Array, bottomDiff: Float32Array): void
  avePoolForward(g: PoolGeometry, bottom: Float32Array, top: Float32Array): void
  avePoolBackward(g: PoolGeometry, topDiff: Float32Array, bottomDiff: Float32Array): void

  /** y = max(x,0) + slope·min(x,0) over n elements (in place allowed: x === y). */
  reluForward(x: Float32Array, y: Float32Array, n: number, slope: number): void
  /** dx = dy·(x > 0 ? 1 : slope), x = the bottom data (in place allowed: dy === dx). */
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, slope: number): void

  /** Softmax along the middle axis of an (outer × channels × inner) array, max-subtracted. */
  softmaxForward(x: Float32Array, y: Float32Array, outer: number, channels: number, inner: number): void

  /** ACROSS_CHANNELS LRN; `scale` receives k + α/n·Σx² (kept for backward). */
  lrnForward(g: LrnGeometry, x: Float32Array, y: Float32Array, scale: Float32Array): void
  lrnBackward(
    g: LrnGeometry,
    x: Float32Array,
    y: Float32Array,
    scale: Float32Array,
    dy: Float32Array,
    dx: Float32Array
  ): void

  /** y[i] += alpha·x[i]. */
  axpy(n: number, alpha: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): void
  /** Σ x[i]·y[i] (accumulated in float64). */
  dot(n: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): number

  /**
   * Optional: a convolution forward for one image of this geometry (group 1) that skips im2col, where
   * the backend has one that beats im2col + GEMM for it and gives bit-identical outputs (no bias);
   * undefined: use im2col + GEMM. Asked once per shape, at reshape.
   */
  directConvolution?(g: ConvGeometry, numOutput: number): DirectConvolution | undefined

  /** Optional: im2col + GEMM over groups of images (absent: Caffe's one image at a time). */
  readonly convolutionBatching?: ConvolutionBatching | undefined

  /** Optional: faster bulk random fills (Rng.fillGaussian's kernels), same samples as the JavaScript. */
  readonly bulkRandom?: BulkRandom

  /** Optional: releases what the backend holds beyond memory (the cpu backend's GEMM threads). */
  dispose?(): Promise<void>

  /**
   * Optional: one parameter's SGD update in a single pass, bit-identical to SgdSolver's JS passes
   * (solvers/sgd.ts): diff ← f32(diff·factor) unless factor is 1, diff ← f32(decay·data + diff) unless
   * decay is 0, step ← f32(rate·diff + f32(momentum·history)) into history and diff, data ← f32(data − step).
   */
  sgdUpdate?(
    n: number,
    data: Float32Array,
    diff: Float32Array,
    history: Float32Array,
    factor: number,
    decay: number,
    rate: number,
    momentum: number
  ): void
}
