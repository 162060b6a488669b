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
import type { WasmKernels } from "./wasm-kernels.js"

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

  constructor(
    private readonly k: WasmKernels,
    blocking: GemmBlocking = defaultBlocking
  ) {
    this.shape = k.options.gemm ?? defaultGemmShape
    const { mr, nr } = this.shape
    // MC/NC as multiples of MR/NR so only the last block has edge tiles.
    this.blocking = {
      ...blocking,
      mc: Math.max(mr, Math.floor(blocking.mc / mr) * mr),
      nc: Math.max(nr, Math.floor(blocking.nc / nr) * nr)
    }
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
    const pa = directA ? 0 : k.scratch(slotPackA, Math.ceil(Math.min(MC, M) / mr) * mr * kcMax)
    const pb = k.scratch(slotPackB, directB ? nr * kcMax : Math.ceil(Math.min(NC, N) / nr) * nr * kcMax)
    const tile = k.scratch(slotTile, mr * nr)
    // op(A)[i,k] = A[i·rsA + k·csA]; op(B)[k,j] = B[j·rsB + k·csB] (the packers' "rows" are B's columns).
    const rsA = transA ? 1 : K
    const csA = transA ? M : 1
    const rsB = transB ? K : 1
    const csB = transB ? 1 : N
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc)
      const fullCols = nc - (nc % nr)
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc)
        const bBlock = b + 4 * (jc * rsB + pc * csB)
        // B panels: in place (stride N floats, a narrower last panel packed into pb) or all packed.
        let panelsB: number
        let panelStepB: number
        let strideB: number
        let edgeB: number
        if (directB) {
          panelsB = bBlock
          panelStepB = 4 * nr
          strideB = 4 * N
          edgeB = pb
          if (fullCols < nc) x.gemm_pack_b(bBlock + 4 * fullCols, 1, N, nc - fullCols, kc, 1, pb)
        } else {
          x.gemm_pack_b(bBlock, rsB, csB, nc, kc, 1, pb)
          panelsB = pb
          panelStepB = 4 * nr * kc
          strideB = 4 * nr
          edgeB = pb + (fullCols / nr) * panelStepB
        }
        const betaBlock = pc === 0 ? beta : 1
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic)
          if (directA) {
            x.gemm_macro(mc, nc, kc, a + 4 * (ic + pc * M), 4 * mr, 4 * M, panelsB, panelStepB, strideB, edgeB, c + 4 * (ic * N + jc), N, betaBlock, tile)
          } else {
            x.gemm_pack_a(a + 4 * (ic * rsA + pc * csA), rsA, csA, mc, kc, alpha, pa)
            x.gemm_macro(mc, nc, kc, pa, 4 * mr * kc, 4 * mr, panelsB, panelStepB, strideB, edgeB, c + 4 * (ic * N + jc), N, betaBlock, tile)
          }
        }
      }
    }
    k.output(c, C, cOffset, cCount)
  }
}

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
