/**
 * The `cpu` backend: every Backend kernel in WebAssembly SIMD (f32x4), single-threaded by default (one
 * trainer per core gives the parallelism); with `threads` > 1 (a lone trainer) large GEMMs are split over
 * helper threads sharing the module's memory, bit-identical to one thread (gemm.ts). Blobs allocated through `allocator` live inside the module's shared
 * memory and are used in place; any other Float32Array is staged through scratch (wasm-kernels.ts).
 */
import type { Backend, BlobAllocator, ConvGeometry, ConvolutionBatching, DirectConvolution, LrnGeometry, PoolGeometry } from "../backend.js"
import { allocationStats } from "../../core/allocation-stats.js"
import type { BulkRandom } from "../../core/rng.js"
import { zigguratTables } from "../../core/ziggurat.js"
import { type GemmBlocking, type GemmSplit, WasmGemm, defaultBlocking, defaultSplit } from "./gemm.js"
import { GemmThreads } from "./gemm-threads.js"
import { WasmKernels } from "./wasm-kernels.js"
import { hasRelaxedSimd, hasSimd128 } from "./wasm-module.js"
import { type GemmShape, defaultGemmShape } from "../../../wasm/gemm.wat.js"
import { zigguratPairsOffset } from "../../../wasm/random.wat.js"

export interface CpuBackendOptions {
  /** Use relaxed-SIMD FMA when available (default true); false forces the mul+add path. */
  readonly fma?: boolean
  readonly gemmShape?: GemmShape
  /** GEMM blocking and in-place thresholds (defaults: defaultBlocking); any subset. */
  readonly blocking?: Partial<GemmBlocking>
  /**
   * Threads for large GEMMs, the caller included (default 1). Meant for a trainer that runs alone on
   * the machine; `dispose` ends the helper threads.
   */
  readonly threads?: number
  /**
   * Convolution forward: `im2col` (default: im2col + GEMM) or `direct` (wasm/conv-direct.wat.ts wherever
   * it applies — stride 1, output rows a multiple of 4 wide). Both give bit-identical outputs; the direct
   * kernel measured 0.44–0.64× im2col + GEMM's speed on every LeNet, CIFAR-10 quick and 3×3 shape
   * (`npm run bench conv`), so it runs only when asked for.
   */
  readonly convolution?: ConvolutionChoice
  /** When a GEMM is split over the threads and into how many chunks (defaults: defaultSplit); any subset. */
  readonly split?: Partial<GemmSplit>
  /**
   * Column-matrix budget in bytes for im2col + GEMM over a group of images (one GEMM per group, N =
   * images·outH·outW, for convolutions whose K spans at least one K block; bit-identical to per image);
   * 0: one image at a time, as Caffe. Default: DEEPSPARK_CONV_BATCH_BYTES, else
   * defaultConvolutionBatchBytes with 2 or more threads (larger GEMMs split into larger chunks) and 0
   * with one (grouping measured no faster on one thread).
   */
  readonly convolutionBatchBytes?: number
  /**
   * Group only convolutions whose K (input channels per group · kh · kw) is at least this (default: the
   * GEMM's K block, 256): below it the GEMM is memory-bound, and a group adds the packing of its wide
   * B and a copy of the output, which measured slower (LeNet's and CIFAR-10 quick's conv1).
   */
  readonly convolutionBatchMinK?: number
}

/**
 * 4 MiB: LeNet's conv2 runs in groups of 32 images, CIFAR-10 quick's conv2 of 5 and conv3 of 20;
 * AlexNet's conv1 and conv2 (4.4 and 7 MB per image) stay per image, so no net's column buffer grows
 * past its largest single image's or 4 MiB.
 */
export const defaultConvolutionBatchBytes = 4 * 1024 * 1024

export type ConvolutionChoice = "im2col" | "direct"

export class CpuBackendUnavailable extends Error {
  override readonly name = "CpuBackendUnavailable"
}

// Staging slots per argument position (GEMM uses 0..5 itself; other kernels use these).
const s0 = 0
const s1 = 1
const s2 = 2
const s3 = 3
const s4 = 4
const s5 = 5
/** The zero-bordered image of padded im2col / col2im (slots 0..5 are GEMM's and the kernels' arguments). */
const slotPadded = 6

export class CpuBackend implements Backend {
  readonly name = "cpu"
  readonly description: string
  readonly allocator: BlobAllocator
  private readonly gemmDriver: WasmGemm
  private readonly threads: GemmThreads | undefined
  /** The GEMM's K block, which the direct convolution's sums follow. */
  private readonly kc: number

  constructor(
    readonly kernels: WasmKernels,
    blocking: GemmBlocking = defaultBlocking,
    threads = 1,
    split: GemmSplit = defaultSplit,
    private readonly convolution: ConvolutionChoice = "im2col",
    convolutionBatchBytes = threads > 1 ? defaultConvolutionBatchBytes : 0,
    convolutionBatchMinK = blocking.kc
  ) {
    this.kc = blocking.kc
    if (!(convolutionBatchBytes >= 0)) throw new RangeError(`cpu backend: convolutionBatchBytes must be ≥ 0, got ${convolutionBatchBytes}`)
    this.convolutionBatching =
      convolutionBatchBytes > 0
        ? {
            groupImages: (kernelDim, columnFloats, _pixels, images) =>
              kernelDim < convolutionBatchMinK ? 1 : Math.max(1, Math.min(images, Math.floor(convolutionBatchBytes / (4 * columnFloats)))),
            im2col: (g, data, dataOffset, col, colOffset, colRowLength) => this.im2colInto(g, data, dataOffset, col, colOffset, colRowLength),
            col2im: (g, col, colOffset, colRowLength, data, dataOffset) => this.col2imFrom(g, col, colOffset, colRowLength, data, dataOffset),
            copyBlocks: this.copyBlocks
          }
        : undefined
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`cpu backend: threads must be a whole number ≥ 1, got ${threads}`)
    const g = kernels.options.gemm ?? defaultGemmShape
    this.description =
      `wasm simd128 ${kernels.options.fma ? "+ relaxed-simd FMA" : "(mul+add, no FMA)"}, gemm ${g.mr}×${g.nr}` +
      `, ${threads === 1 ? "1 thread" : `${threads} GEMM threads`}` +
      `, module ${kernels.fromCache ? "from cache" : "assembled"} in ${kernels.buildMs.toFixed(0)} ms`
    this.allocator = { allocFloat32: (count) => kernels.heap.allocFloat32(count), allocInt32: (count) => kernels.heap.allocInt32(count) }
    this.threads = threads > 1 ? new GemmThreads(kernels.exports, kernels.module, kernels.heap.memory, threads - 1, split.helperSpins) : undefined
    this.gemmDriver = new WasmGemm(kernels, blocking, this.threads, split)
  }

  /**
   * mt19937 and the whole ziggurat and uniform fills in wasm (wasm/random.wat.ts): the twist, the common
   * paths four words at a time, and the ziggurat's rare exact path (Math.exp / Math.log imported). The arrays' addresses are
   * remembered (a heap lookup per call cost ≈ 2 ns per sample when this was called once per 624).
   */
  readonly bulkRandom: BulkRandom = {
    allocWords: (count) => this.kernels.heap.allocInt32(count),
    twist: (mt) => this.kernels.exports.mt_twist(this.stateAddress(mt)),
    fillGaussian: (mt, index, out, start, count, mean, std, rejected) =>
      this.randomFill(out, start, count, (o) =>
        this.kernels.exports.gaussian_fill(this.stateAddress(mt), index, o, count, mean, std, this.zigguratTablesAddress(), this.stateAddress(rejected))
      ),
    fillUniform: (mt, index, out, start, count, min, scale) =>
      this.randomFill(out, start, count, (o) => this.kernels.exports.uniform_fill(this.stateAddress(mt), index, o, count, min, scale))
  }

  /** Runs a fill kernel on `out[start .. start+count)` in place when it lives in wasm memory, else on a scratch copy; returns the kernel's result. */
  private randomFill(out: Float32Array, start: number, count: number, kernel: (address: number) => unknown): number {
    const k = this.kernels
    if (out !== this.randomOut) {
      this.randomOut = out
      this.randomOutAddress = k.heap.addressOf(out)
    }
    const o = this.randomOutAddress >= 0 ? this.randomOutAddress + 4 * start : k.inout(s0, out, start, count, false)
    const next = kernel(o) as number
    if (this.randomOutAddress < 0) k.output(o, out, start, count)
    return next
  }
  private randomOut: Float32Array | undefined
  private randomOutAddress = -1
  private readonly stateAddresses = new WeakMap<ArrayBufferView, number>()
  private zigguratTables: Int32Array | undefined
  private zigguratTablesAt = 0

  /**
   * The ziggurat's k (128 × u32), w then f (128 × f64 each) tables in wasm memory, then (w, k·w) pairs
   * for the four-word path (random.wat.ts), copied there on first use.
   */
  private zigguratTablesAddress(): number {
    if (!this.zigguratTables) {
      const words = this.kernels.heap.allocInt32(128 + 4 * 128 + 4 * 128)
      words.set(zigguratTables.k)
      new Float64Array(words.buffer, words.byteOffset + 4 * 128, 128).set(zigguratTables.w)
      new Float64Array(words.buffer, words.byteOffset + 4 * 128 + 8 * 128, 128).set(zigguratTables.f)
      const pairs = new Float64Array(words.buffer, words.byteOffset + zigguratPairsOffset, 2 * 128)
      for (let layer = 0; layer < 128; layer++) {
        pairs[2 * layer] = zigguratTables.w[layer]!
        pairs[2 * layer + 1] = zigguratTables.k[layer]! * zigguratTables.w[layer]!
      }
      this.zigguratTables = words
      this.zigguratTablesAt = this.kernels.heap.addressOf(words)
    }
    return this.zigguratTablesAt
  }

  /** Byte address of an array the bulk random kernels read in place (handed out by allocWords). */
  private stateAddress(a: Uint32Array | Int32Array): number {
    const known = this.stateAddresses.get(a)
    if (known !== undefined) return known
    const at = this.kernels.heap.addressOf(a)
    if (at < 0) throw new RangeError("cpu backend: the random generator's state must live in wasm memory (BulkRandom.allocWords)")
    this.stateAddresses.set(a, at)
    return at
  }

  /** Threads GEMMs run on (1: this thread only). */
  get threadCount(): number {
    return this.threads?.participants ?? 1
  }

  /** GEMM chunks the helper threads have run (0 with one thread). */
  get helperChunks(): number {
    return this.threads?.helperChunks ?? 0
  }

  /** Ends the GEMM helper threads (the backend must not be used afterwards when it had any). */
  dispose(): Promise<void> {
    return this.threads?.dispose() ?? Promise.resolve()
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
    this.gemmDriver.gemm(transA, transB, M, N, K, alpha, A, aOffset, B, bOffset, beta, C, cOffset)
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
    if (M <= 0 || N <= 0) return
    const k = this.kernels
    const xLen = transA ? M : N
    const yLen = transA ? N : M
    const a = k.input(s0, A, aOffset, M * N)
    const xa = k.input(s1, x, xOffset, xLen)
    const ya = k.inout(s2, y, yOffset, yLen, beta !== 0)
    if (transA) k.exports.gemv_t(M, N, alpha, a, xa, beta, ya)
    else k.exports.gemv_n(M, N, alpha, a, xa, beta, ya)
    k.output(ya, y, yOffset, yLen)
  }

  directConvolution(g: ConvGeometry, numOutput: number): DirectConvolution | undefined {
    if (this.convolution !== "direct" || !isStride1(g) || g.outW % 4 !== 0) return undefined
    const k = this.kernels
    const { channels, height, width, padH, padW } = g
    const imageLen = channels * height * width
    const weightLen = numOutput * channels * g.kernelH * g.kernelW
    const outLen = numOutput * g.outH * g.outW
    const kc = this.kc
    return (weights, input, inOffset, output, outOffset) => {
      const w = k.input(s0, weights, 0, weightLen)
      const d = k.input(s1, input, inOffset, imageLen)
      const o = k.inout(s2, output, outOffset, outLen, false)
      const src = padH === 0 && padW === 0 ? d : k.scratch(slotPadded, paddedCount(g))
      if (src !== d) k.exports.pad_image(channels, height, width, padH, padW, d, src)
      k.exports.conv_direct_fwd(channels, height + 2 * padH, width + 2 * padW, g.kernelH, g.kernelW, g.outH, g.outW, numOutput, kc, w, src, o)
      k.output(o, output, outOffset, outLen)
    }
  }

  im2col(g: ConvGeometry, data: Float32Array, dataOffset: number, col: Float32Array): void {
    this.im2colInto(g, data, dataOffset, col, 0, g.outH * g.outW)
  }

  col2im(g: ConvGeometry, col: Float32Array, data: Float32Array, dataOffset: number): void {
    this.col2imFrom(g, col, 0, g.outH * g.outW, data, dataOffset)
  }

  /** Groups of images per convolution GEMM (convolutionBatchBytes > 0; undefined: per image). */
  readonly convolutionBatching: ConvolutionBatching | undefined

  /** im2col into columns [colOffset, +outH·outW) of a column matrix with rows colRowLength floats long. */
  private im2colInto(g: ConvGeometry, data: Float32Array, dataOffset: number, col: Float32Array, colOffset: number, colRowLength: number): void {
    const k = this.kernels
    const imageLen = g.channels * g.height * g.width
    const colSpan = columnSpan(g, colRowLength)
    const gap = 4 * (colRowLength - g.outH * g.outW)
    const d = k.input(s0, data, dataOffset, imageLen)
    // A staged column matrix keeps the other images' columns: copied in first when they are there.
    const c = k.inout(s1, col, colOffset, colSpan, gap > 0)
    if (isStride1(g)) {
      // Padded: im2col_valid over a zero-bordered copy of the image (see pad_image).
      const { padH, padW } = g
      const src = padH === 0 && padW === 0 ? d : k.scratch(slotPadded, paddedCount(g))
      if (src !== d) k.exports.pad_image(g.channels, g.height, g.width, padH, padW, d, src)
      k.exports.im2col_valid(g.channels, g.height + 2 * padH, g.width + 2 * padW, g.kernelH, g.kernelW, g.outH, g.outW, src, c, gap)
    } else k.exports.im2col(...geometryArgs(g), d, c, gap)
    k.output(c, col, colOffset, colSpan)
  }

  /** col2im from columns [colOffset, +outH·outW) of a column matrix with rows colRowLength floats long. */
  private col2imFrom(g: ConvGeometry, col: Float32Array, colOffset: number, colRowLength: number, data: Float32Array, dataOffset: number): void {
    const k = this.kernels
    const imageLen = g.channels * g.height * g.width
    const gap = 4 * (colRowLength - g.outH * g.outW)
    const c = k.input(s0, col, colOffset, columnSpan(g, colRowLength))
    const d = k.inout(s1, data, dataOffset, imageLen, false)
    if (isStride1(g)) {
      // Padded: col2im_valid into a zero-bordered image, then its interior (see pad_image).
      const { padH, padW } = g
      const dst = padH === 0 && padW === 0 ? d : k.scratch(slotPadded, paddedCount(g))
      k.exports.col2im_valid(g.channels, g.height + 2 * padH, g.width + 2 * padW, g.kernelH, g.kernelW, g.outH, g.outW, c, dst, gap)
      if (dst !== d) k.exports.crop_image(g.channels, g.height, g.width, padH, padW, d, dst)
    } else k.exports.col2im(...geometryArgs(g), c, d, gap)
    k.output(d, data, dataOffset, imageLen)
  }

  /** ConvolutionBatching.copyBlocks by the copy_blocks kernel (strides in floats there, bytes here). */
  private readonly copyBlocks: ConvolutionBatching["copyBlocks"] = (blocks, rows, length, src, srcOffset, srcBlock, srcRow, dst, dstOffset, dstBlock, dstRow) => {
    if (blocks <= 0 || rows <= 0 || length <= 0) return
    const k = this.kernels
    const dstSpan = (blocks - 1) * dstBlock + (rows - 1) * dstRow + length
    const sa = k.input(s0, src, srcOffset, (blocks - 1) * srcBlock + (rows - 1) * srcRow + length)
    const da = k.inout(s1, dst, dstOffset, dstSpan, true)
    k.exports.copy_blocks(blocks, rows, length, sa, 4 * srcBlock, 4 * srcRow, da, 4 * dstBlock, 4 * dstRow)
    k.output(da, dst, dstOffset, dstSpan)
  }

  maxPoolForward(g: PoolGeometry, bottom: Float32Array, top: Float32Array, mask: Int32Array): void {
    const k = this.kernels
    const { inLen, outLen } = poolSizes(g)
    const b = k.input(s0, bottom, 0, inLen)
    const t = k.inout(s1, top, 0, outLen, false)
    const m = this.int32Out(s2, mask, outLen)
    if (isWhole2x2(g)) k.exports.max_pool_2x2(g.num * g.channels, g.height, g.width, g.pooledH, g.pooledW, b, t, m)
    else {
      // 3×3 / stride 2 without padding: the SIMD kernel takes the interior, the generic one the rest.
      const [ohFull, owFull] = is3x3s2(g) ? interior3x3s2(g) : [0, 0]
      if (ohFull > 0 && owFull > 0)
        k.exports.max_pool_3x3s2(g.num * g.channels, g.height, g.width, g.pooledH, g.pooledW, ohFull, owFull, b, t, m)
      k.exports.max_pool_fwd(...poolArgs(g), ohFull, owFull, b, t, m)
    }
    k.output(t, top, 0, outLen)
    this.int32Back(m, mask, outLen)
  }

  maxPoolBackward(g: PoolGeometry, topDiff: Float32Array, mask: Int32Array, bottomDiff: Float32Array): void {
    const k = this.kernels
    const { inLen, outLen } = poolSizes(g)
    const t = k.input(s0, topDiff, 0, outLen)
    const m = this.int32In(s1, mask, outLen)
    const b = k.inout(s2, bottomDiff, 0, inLen, false)
    k.exports.max_pool_bwd(g.num * g.channels, g.height * g.width, g.pooledH * g.pooledW, t, m, b)
    k.output(b, bottomDiff, 0, inLen)
  }

  avePoolForward(g: PoolGeometry, bottom: Float32Array, top: Float32Array): void {
    const k = this.kernels
    const { inLen, outLen } = poolSizes(g)
    const b = k.input(s0, bottom, 0, inLen)
    const t = k.inout(s1, top, 0, outLen, false)
    k.exports.ave_pool_fwd(...poolArgs(g), b, t)
    k.output(t, top, 0, outLen)
  }

  avePoolBackward(g: PoolGeometry, topDiff: Float32Array, bottomDiff: Float32Array): void {
    const k = this.kernels
    const { inLen, outLen } = poolSizes(g)
    const t = k.input(s0, topDiff, 0, outLen)
    const b = k.inout(s1, bottomDiff, 0, inLen, false)
    k.exports.ave_pool_bwd(...poolArgs(g), t, b)
    k.output(b, bottomDiff, 0, inLen)
  }

  reluForward(x: Float32Array, y: Float32Array, n: number, slope: number): void {
    if (n <= 0) return
    const k = this.kernels
    const xa = k.input(s0, x, 0, n)
    // In place on a staged input: write straight back over the staged copy.
    const ya = x === y ? xa : k.inout(s1, y, 0, n, false)
    k.exports.relu_fwd(xa, ya, n, slope)
    k.output(ya, y, 0, n)
  }

  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, slope: number): void {
    if (n <= 0) return
    const k = this.kernels
    const xa = k.input(s0, x, 0, n)
    const dya = k.input(s1, dy, 0, n)
    const dxa = dx === dy ? dya : k.inout(s2, dx, 0, n, false)
    k.exports.relu_bwd(xa, dya, dxa, n, slope)
    k.output(dxa, dx, 0, n)
  }

  softmaxForward(x: Float32Array, y: Float32Array, outer: number, channels: number, inner: number): void {
    const n = outer * channels * inner
    if (n <= 0) return
    const k = this.kernels
    const xa = k.input(s0, x, 0, n)
    const ya = x === y ? xa : k.inout(s1, y, 0, n, false)
    k.exports.softmax(xa, ya, outer, channels, inner)
    k.output(ya, y, 0, n)
  }

  lrnForward(g: LrnGeometry, x: Float32Array, y: Float32Array, scale: Float32Array): void {
    const n = g.num * g.channels * g.height * g.width
    if (n <= 0) return
    const k = this.kernels
    const xa = k.input(s0, x, 0, n)
    const ya = k.inout(s1, y, 0, n, false)
    const sa = k.inout(s2, scale, 0, n, false)
    k.exports.lrn_fwd(g.num, g.channels, g.height * g.width, lrnHalf(g), g.alpha / g.size, g.k, -g.beta, xa, ya, sa)
    k.output(ya, y, 0, n)
    k.output(sa, scale, 0, n)
  }

  lrnBackward(
    g: LrnGeometry,
    x: Float32Array,
    y: Float32Array,
    scale: Float32Array,
    dy: Float32Array,
    dx: Float32Array
  ): void {
    const n = g.num * g.channels * g.height * g.width
    if (n <= 0) return
    const k = this.kernels
    const xa = k.input(s0, x, 0, n)
    const ya = k.input(s1, y, 0, n)
    const sa = k.input(s2, scale, 0, n)
    const dya = k.input(s3, dy, 0, n)
    const dxa = k.inout(s4, dx, 0, n, false)
    const tmp = k.scratch(s5, n)
    const ratio = (2 * g.alpha * g.beta) / g.size
    k.exports.lrn_bwd(g.num, g.channels, g.height * g.width, lrnHalf(g), ratio, -g.beta, xa, ya, sa, dya, dxa, tmp)
    k.output(dxa, dx, 0, n)
  }

  axpy(n: number, alpha: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): void {
    if (n <= 0) return
    const k = this.kernels
    const xa = k.input(s0, x, xOffset, n)
    const ya = k.inout(s1, y, yOffset, n, true)
    k.exports.axpy(n, alpha, xa, ya)
    k.output(ya, y, yOffset, n)
  }

  dot(n: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): number {
    if (n <= 0) return 0
    const k = this.kernels
    const xa = k.input(s0, x, xOffset, n)
    const ya = k.input(s1, y, yOffset, n)
    return k.exports.dot(n, xa, ya) as number
  }

  sgdUpdate(
    n: number,
    data: Float32Array,
    diff: Float32Array,
    history: Float32Array,
    factor: number,
    decay: number,
    rate: number,
    momentum: number
  ): void {
    if (n <= 0) return
    const k = this.kernels
    const w = k.inout(s0, data, 0, n, true)
    const g = k.inout(s1, diff, 0, n, true)
    const h = k.inout(s2, history, 0, n, true)
    k.exports.sgd_update(n, w, g, h, factor, decay, rate, momentum)
    k.output(w, data, 0, n)
    k.output(g, diff, 0, n)
    k.output(h, history, 0, n)
  }

  /** Int32Array arguments (the pooling mask) staged like float ones (same 4-byte elements). */
  private int32In(slot: number, a: Int32Array, count: number): number {
    const k = this.kernels
    const at = k.heap.addressOf(a)
    if (at >= 0) return at
    const address = k.scratch(slot, count)
    if (allocationStats.enabled) allocationStats.record("staged-copy", count * 4)
    k.heap.heapI32.set(a.subarray(0, count), address >> 2)
    return address
  }

  private int32Out(slot: number, a: Int32Array, count: number): number {
    const at = this.kernels.heap.addressOf(a)
    return at >= 0 ? at : this.kernels.scratch(slot, count)
  }

  private int32Back(address: number, a: Int32Array, count: number): void {
    if (this.kernels.heap.addressOf(a) >= 0) return
    if (allocationStats.enabled) allocationStats.record("staged-copy", count * 4)
    a.set(this.kernels.heap.heapI32.subarray(address >> 2, (address >> 2) + count))
  }
}

const geometryArgs = (g: ConvGeometry): number[] => [
  g.channels,
  g.height,
  g.width,
  g.kernelH,
  g.kernelW,
  g.padH,
  g.padW,
  g.strideH,
  g.strideW,
  g.dilationH,
  g.dilationW,
  g.outH,
  g.outW
]

/**
 * Stride 1, dilation 1, output rows of at least one vector: the im2col_valid / col2im_valid fast paths
 * (through a zero-bordered copy of the image when padded).
 */
const isStride1 = (g: ConvGeometry): boolean =>
  g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 && g.outW >= 4

/** Floats from a column matrix's first element of an image to its last (rows colRowLength long). */
const columnSpan = (g: ConvGeometry, colRowLength: number): number =>
  (g.channels * g.kernelH * g.kernelW - 1) * colRowLength + g.outH * g.outW

const paddedCount = (g: ConvGeometry): number => g.channels * (g.height + 2 * g.padH) * (g.width + 2 * g.padW)

const poolArgs = (g: PoolGeometry): number[] => [
  g.num * g.channels,
  g.height,
  g.width,
  g.kernelH,
  g.kernelW,
  g.padH,
  g.padW,
  g.strideH,
  g.strideW,
  g.pooledH,
  g.pooledW
]

/** 2×2 windows at stride 2 without padding, every window inside the image (the SIMD max-pool path). */
const isWhole2x2 = (g: PoolGeometry): boolean =>
  g.kernelH === 2 &&
  g.kernelW === 2 &&
  g.strideH === 2 &&
  g.strideW === 2 &&
  g.padH === 0 &&
  g.padW === 0 &&
  2 * g.pooledH <= g.height &&
  2 * g.pooledW <= g.width

const is3x3s2 = (g: PoolGeometry): boolean =>
  g.kernelH === 3 && g.kernelW === 3 && g.strideH === 2 && g.strideW === 2 && g.padH === 0 && g.padW === 0

/**
 * The 3×3/2 SIMD kernel's region: rows whose three window rows exist (2·oh + 2 < height) and the first
 * owFull outputs of a row, in groups of four whose loads (columns 2·s … 2·s + 9 from the group's first
 * output s) stay inside the row: 2·(owFull − 4) + 9 < width. Fewer than four: none.
 */
const interior3x3s2 = (g: PoolGeometry): [number, number] => {
  const ohFull = g.height >= 3 ? Math.min(g.pooledH, Math.floor((g.height - 3) / 2) + 1) : 0
  const owFull = Math.min(g.pooledW, Math.floor((g.width - 2) / 2))
  return owFull >= 4 ? [ohFull, owFull] : [0, 0]
}

const poolSizes = (g: PoolGeometry) => ({
  inLen: g.num * g.channels * g.height * g.width,
  outLen: g.num * g.channels * g.pooledH * g.pooledW
})

const lrnHalf = (g: LrnGeometry): number => {
  if (g.size % 2 !== 1) throw new RangeError(`LRN local_size must be odd, got ${g.size}`)
  return (g.size - 1) / 2
}

/**
 * Compiles the kernels and returns the backend. Picks relaxed-SIMD FMA when the runtime has it (Node 20:
 * behind a V8 flag this sets), else plain f32x4 mul+add; fails when there is no SIMD at all.
 */
export const createCpuBackend = async (options: CpuBackendOptions = {}): Promise<CpuBackend> => {
  if (!hasSimd128()) throw new CpuBackendUnavailable("cpu backend: this runtime has no WebAssembly SIMD (simd128)")
  const fma = (options.fma ?? true) && hasRelaxedSimd()
  const kernels = await WasmKernels.create({ fma, ...(options.gemmShape ? { gemm: options.gemmShape } : {}) })
  return new CpuBackend(
    kernels,
    { ...defaultBlocking, ...options.blocking },
    options.threads ?? 1,
    { ...defaultSplit, ...options.split },
    options.convolution,
    options.convolutionBatchBytes ?? convolutionBatchBytesFromEnv(),
    options.convolutionBatchMinK
  )
}

/** DEEPSPARK_CONV_BATCH_BYTES (bytes, 0: per image), else undefined (the backend's default). */
const convolutionBatchBytesFromEnv = (): number | undefined => {
  const text = typeof process === "undefined" ? undefined : process.env["DEEPSPARK_CONV_BATCH_BYTES"]
  if (text === undefined || text === "") return undefined
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`DEEPSPARK_CONV_BATCH_BYTES must be a whole number of bytes ≥ 0, got '${text}'`)
  return n
}
