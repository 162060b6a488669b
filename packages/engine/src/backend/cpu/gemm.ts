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
 */
import { type GemmShape, defaultGemmShape } from "../../../wasm/gemm.wat.js"
import type { WasmKernels } from "./wasm-kernels.js"

export interface GemmBlocking {
  readonly kc: number
  readonly mc: number
  readonly nc: number
}

/** Tuned on the dev machine (48 KiB L1d, 2 MiB L2) with bench/cpu.ts. */
export const defaultBlocking: GemmBlocking = { kc: 256, mc: 120, nc: 2048 }

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
      kc: blocking.kc,
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
    const { mr, nr } = this.shape
    const { kc: KC, mc: MC, nc: NC } = this.blocking
    const kcMax = Math.min(KC, K)
    const pa = k.scratch(slotPackA, Math.ceil(Math.min(MC, M) / mr) * mr * kcMax)
    const pb = k.scratch(slotPackB, Math.ceil(Math.min(NC, N) / nr) * nr * kcMax)
    const tile = k.scratch(slotTile, mr * nr)
    // op(A)[i,k] = A[i·rsA + k·csA]; op(B)[k,j] = B[j·rsB + k·csB] (the packers' "rows" are B's columns).
    const rsA = transA ? 1 : K
    const csA = transA ? M : 1
    const rsB = transB ? K : 1
    const csB = transB ? 1 : N
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc)
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc)
        x.gemm_pack_b(b + 4 * (jc * rsB + pc * csB), rsB, csB, nc, kc, 1, pb)
        const betaBlock = pc === 0 ? beta : 1
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic)
          x.gemm_pack_a(a + 4 * (ic * rsA + pc * csA), rsA, csA, mc, kc, alpha, pa)
          x.gemm_macro(mc, nc, kc, pa, pb, c + 4 * (ic * N + jc), N, betaBlock, tile)
        }
      }
    }
    k.output(c, C, cOffset, cCount)
  }
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
