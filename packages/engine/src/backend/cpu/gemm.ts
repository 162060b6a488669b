/**
 * GEMM driver (Goto/BLIS loop nest) over the wasm kernels of wasm/gemm.wat.ts:
 *
 *   for jc in N step NC            (B panel kc × nc lives in L2/L3)
 *     for pc in K step KC          pack op(B)[pc.., jc..] → NR-column panels
 *       for ic in M step MC        pack alpha·op(A)[ic.., pc..] → MR-row panels (L2)
 *         macro-kernel             MR × NR micro-tiles, B micro-panel (kc × NR) stays in L1
 *
 * All four transpose cases differ only in the strides handed to the packers. beta applies on the first
 * pc block; later blocks accumulate (beta = 1).
 *
 * Packing is skipped where the source already is panel-shaped and the copy would cost more than it
 * saves: op(B) = B (not transposed) holds each NR-column panel's values of one k contiguously, so with
 * few rows of A to reuse a packed B over (M ≤ directB.maxM) the micro-kernel reads B in place (row
 * stride N); likewise op(A) = Aᵀ with alpha 1 holds MR rows of one k contiguously (stride M). Only
 * where the kc rows of an in-place panel spread over enough L1 sets (a row stride of 4 KiB puts every
 * row in one set and thrashes the cache: 32×1024×75 ran at 25 GFLOPS in place vs 36 packed). Every
 * element is still summed in the same k order with the same kc blocks, so results are bit-identical.
 */
import { type GemmShape, defaultGemmShape } from "../../../wasm/gemm.wat.js"
import { DirectCalls, type GemmCalls, RecordedCalls, ownBuffer } from "./gemm-commands.js"
import { type GemmThreads, maxChunks } from "./gemm-threads.js"
import { Scratch, type WasmKernels } from "./wasm-kernels.js"

export interface GemmBlocking {
  /** K block: also the summation order's grouping (partial sums of kc products are added to C). */
  readonly kc: number
  readonly mc: number
  readonly nc: number
  /** Read a non-transposed B in place when M ≤ this (0: always pack). */
  readonly directBMaxM: number
  /** Read a transposed A (alpha 1) in place when N ≤ this (0: always pack). */
  readonly directAMaxN: number
  /** K = 1 with beta 0 or 1 (bias terms) by the rank-1 kernel (same sums; false: the packed path). */
  readonly rank1: boolean
}

/**
 * kc 256 is fixed by exactness (Caffe-trajectory tests depend on the kc grouping of conv2's K = 500);
 * mc, nc and the in-place thresholds only move work around and were tuned with bench/cpu.ts.
 */
export const defaultBlocking: GemmBlocking = { kc: 256, mc: 120, nc: 2048, directBMaxM: 64, directAMaxN: 256, rank1: true }

const slotA = 0
const slotB = 1
const slotC = 2
const slotPackA = 3
const slotPackB = 4
const slotTile = 5

export class WasmGemm {
  private readonly shape: GemmShape
  private readonly blocking: GemmBlocking
  private readonly direct: DirectCalls
  private readonly recorder: RecordedCalls | undefined
  /** Per helper thread: its A buffer, B buffer and tile. */
  private readonly helperScratch: Scratch[][]
  private readonly starts: number[] = []

  constructor(
    private readonly k: WasmKernels,
    blocking: GemmBlocking = defaultBlocking,
    private readonly threads?: GemmThreads,
    private readonly split: GemmSplit = defaultSplit
  ) {
    this.shape = k.options.gemm ?? defaultGemmShape
    const { mr, nr } = this.shape
    // MC/NC as multiples of MR/NR so only the last block has edge tiles.
    this.blocking = {
      ...blocking,
      mc: Math.max(mr, Math.floor(blocking.mc / mr) * mr),
      nc: Math.max(nr, Math.floor(blocking.nc / nr) * nr)
    }
    this.direct = new DirectCalls(k.exports)
    this.recorder = threads ? new RecordedCalls(threads.commands) : undefined
    this.helperScratch = Array.from({ length: threads?.helpers ?? 0 }, () => [new Scratch(k.heap), new Scratch(k.heap), new Scratch(k.heap)])
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
    const k = this.k
    const x = k.exports
    const cCount = M * N
    const c = k.inout(slotC, C, cOffset, cCount, beta !== 0)
    if (K <= 0 || alpha === 0) {
      scaleInPlace(k.heap.heapF32, c >> 2, cCount, beta)
      k.output(c, C, cOffset, cCount)
      return
    }
    const a = k.input(slotA, A, aOffset, M * K)
    const b = k.input(slotB, B, bOffset, K * N)
    if (K === 1 && (beta === 0 || beta === 1) && this.blocking.rank1) {
      // With K = 1, op(A) is A[i] and op(B) is B[j] whatever the transposes.
      x.gemm_rank1(M, N, alpha, a, b, beta, c, N)
      k.output(c, C, cOffset, cCount)
      return
    }
    const { mr, nr } = this.shape
    const { kc: KC, mc: MC, nc: NC } = this.blocking
    const kcMax = Math.min(KC, K)
    const directB = !transB && M <= this.blocking.directBMaxM && spreadsOverL1(4 * N, kcMax, 4 * nr)
    const directA = transA && alpha === 1 && N <= this.blocking.directAMaxN && spreadsOverL1(4 * M, kcMax, 4 * mr)
    const paFloats = directA ? 0 : Math.ceil(Math.min(MC, M) / mr) * mr * kcMax
    const pbFloats = directB ? nr * kcMax : Math.ceil(Math.min(NC, N) / nr) * nr * kcMax
    // op(A)[i,k] = A[i·rsA + k·csA]; op(B)[k,j] = B[j·rsB + k·csB] (the packers' "rows" are B's columns).
    const rsA = transA ? 1 : K
    const csA = transA ? M : 1
    const rsB = transB ? K : 1
    const csB = transB ? 1 : N
    if (!this.threads || !this.runThreaded(M, N, K, alpha, a, rsA, csA, b, rsB, csB, beta, c, directA, directB, paFloats, pbFloats)) {
      const calls = this.direct
      calls.pa = directA ? 0 : k.scratch(slotPackA, paFloats)
      calls.pb = k.scratch(slotPackB, pbFloats)
      calls.tile = k.scratch(slotTile, mr * nr)
      this.block(calls, M, N, K, alpha, a, rsA, csA, b, rsB, csB, beta, c, N, directA, directB)
    }
    k.output(c, C, cOffset, cCount)
  }

  /**
   * Splits a large GEMM into chunks of whole MR-row or NR-column panels of C and runs them on every
   * thread (false: too small to gain, or its plan did not fit the command buffer — run it on one).
   * Each element of C is still computed by one thread with the same kernel calls in the same k order and
   * kc blocks, and the chunk boundaries fall on the single-thread path's tile boundaries: bit-identical.
   */
  private runThreaded(
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    beta: number,
    c: number,
    directA: boolean,
    directB: boolean,
    paFloats: number,
    pbFloats: number
  ): boolean {
    const threads = this.threads!
    const recorder = this.recorder!
    if (2 * M * N * K < this.split.minFlops) return false
    const { mr, nr } = this.shape
    const mPanels = Math.ceil(M / mr)
    const nPanels = Math.ceil(N / nr)
    // Split where it copies least: along N each chunk packs all of op(A) again, along M all of op(B),
    // unless that operand is read in place.
    const byColumns = directB ? false : directA ? true : M <= N
    const panels = byColumns ? nPanels : mPanels
    const chunks = Math.min(panels, threads.participants * this.split.chunksPerThread, maxChunks)
    if (chunks < 2) return false
    const k = this.k
    const tileFloats = mr * nr
    threads.setBuffers(0, directA ? 0 : k.scratch(slotPackA, paFloats), k.scratch(slotPackB, pbFloats), k.scratch(slotTile, tileFloats))
    this.helperScratch.forEach(([pa, pb, tile], i) =>
      threads.setBuffers(i + 1, directA ? 0 : pa!.reserve(paFloats), pb!.reserve(pbFloats), tile!.reserve(tileFloats))
    )
    const starts = this.starts
    starts.length = 0
    recorder.length = 0
    for (let q = 0; q < chunks; q++) {
      starts.push(recorder.length)
      const p0 = Math.floor((q * panels) / chunks)
      const p1 = Math.floor(((q + 1) * panels) / chunks)
      if (byColumns) {
        const j0 = p0 * nr
        const j1 = Math.min(N, p1 * nr)
        this.block(recorder, M, j1 - j0, K, alpha, a, rsA, csA, b + 4 * j0 * rsB, rsB, csB, beta, c + 4 * j0, N, directA, directB)
      } else {
        const i0 = p0 * mr
        const i1 = Math.min(M, p1 * mr)
        this.block(recorder, i1 - i0, N, K, alpha, a + 4 * i0 * rsA, rsA, csA, b, rsB, csB, beta, c + 4 * i0 * N, N, directA, directB)
      }
    }
    if (recorder.length < 0) return false
    starts.push(recorder.length)
    threads.run(starts)
    return true
  }

  /**
   * The loop nest over one block of C (M × N at byte address c, row stride ldc floats): every kernel
   * call goes to `calls`. op(A) and op(B) are addressed through their element strides.
   */
  private block(
    calls: GemmCalls,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    beta: number,
    c: number,
    ldc: number,
    directA: boolean,
    directB: boolean
  ): void {
    const { mr, nr } = this.shape
    const { kc: KC, mc: MC, nc: NC } = this.blocking
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc)
      const fullCols = nc - (nc % nr)
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc)
        const bBlock = b + 4 * (jc * rsB + pc * csB)
        // B panels: in place (stride csB floats, a narrower last panel packed) or all packed.
        let panelsB: number
        let panelStepB: number
        let strideB: number
        let edgeB: number
        if (directB) {
          panelsB = bBlock
          panelStepB = 4 * nr
          strideB = 4 * csB
          edgeB = 0
          if (fullCols < nc) calls.packB(bBlock + 4 * fullCols, 1, csB, nc - fullCols, kc, 1, 0)
        } else {
          calls.packB(bBlock, rsB, csB, nc, kc, 1, 0)
          panelsB = ownBuffer
          panelStepB = 4 * nr * kc
          strideB = 4 * nr
          edgeB = (fullCols / nr) * panelStepB
        }
        const betaBlock = pc === 0 ? beta : 1
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic)
          const cBlock = c + 4 * (ic * ldc + jc)
          if (directA) {
            calls.macro(mc, nc, kc, a + 4 * (ic * rsA + pc * csA), 4 * mr, 4 * csA, panelsB, panelStepB, strideB, edgeB, cBlock, ldc, betaBlock)
          } else {
            calls.packA(a + 4 * (ic * rsA + pc * csA), rsA, csA, mc, kc, alpha, 0)
            calls.macro(mc, nc, kc, ownBuffer, 4 * mr * kc, 4 * mr, panelsB, panelStepB, strideB, edgeB, cBlock, ldc, betaBlock)
          }
        }
      }
    }
  }
}

/** When and how finely a GEMM is split over threads. */
export interface GemmSplit {
  /** GEMMs of fewer flops (2·M·N·K) run on one thread: the hand-off would cost more than it gains. */
  readonly minFlops: number
  /** Chunks per thread (more balance the load on a busy machine; each repacks the other operand). */
  readonly chunksPerThread: number
  /**
   * Spins of an idle helper thread before it sleeps: a sleeping helper takes tens of µs to wake, a
   * spinning one takes a core from whatever else runs.
   */
  readonly helperSpins: number
}

export const defaultSplit: GemmSplit = { minFlops: 1 << 20, chunksPerThread: 2, helperSpins: 2000 }

/** L1d geometry of the x86-64 cores this runs on (32 KiB, 8-way, 64-byte lines → 64 sets). */
const l1Sets = 64
const l1Ways = 8
const setSpread = new Map<number, boolean>()

/**
 * Whether `rows` rows of `bytes` bytes at a stride of `strideBytes` (an in-place panel over one kc
 * block) occupy at most half the ways of any L1 set, leaving room for the other operand and C.
 */
const spreadsOverL1 = (strideBytes: number, rows: number, bytes: number): boolean => {
  const key = strideBytes * 4096 + rows
  const known = setSpread.get(key)
  if (known !== undefined) return known
  const perSet = new Uint16Array(l1Sets)
  let worst = 0
  // Worst alignment of the panel's start: every offset within a line, in 4-byte steps.
  for (let start = 0; start < 64 && worst <= l1Ways / 2; start += 4) {
    perSet.fill(0)
    for (let r = 0; r < rows; r++) {
      const first = Math.floor((start + r * strideBytes) / 64)
      const last = Math.floor((start + r * strideBytes + bytes - 1) / 64)
      for (let line = first; line <= last; line++) worst = Math.max(worst, ++perSet[line % l1Sets]!)
    }
  }
  const fits = worst <= l1Ways / 2
  setSpread.set(key, fits)
  return fits
}

/** C ← beta·C (beta = 0 writes zeros, never reading C). */
const scaleInPlace = (heap: Float32Array, start: number, count: number, beta: number): void => {
  if (beta === 1) return
  if (beta === 0) {
    heap.fill(0, start, start + count)
    return
  }
  for (let i = start; i < start + count; i++) heap[i] = heap[i]! * beta
}
