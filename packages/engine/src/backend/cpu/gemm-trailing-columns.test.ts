import { describe, expect, it } from "vitest"
import { createCpuBackend } from "./cpu-backend.js"

// Deterministic data (a small LCG): failures reproduce.
let seed = 4242
const randomArray = (n: number): Float32Array => {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    a[i] = seed / 2 ** 32 - 0.5
  }
  return a
}

/**
 * C's 1–3 columns past the last full vector of B's last panel (LeNet conv1's weight gradient: N = 25) run
 * a kernel of their own for full-height row panels. Widening B to a multiple of the panel width puts
 * the same columns in full micro-tiles — the same products in the same k order and kc blocks — so the
 * narrow GEMM's C must equal the wide one's first N columns bit for bit (then beta·C added as the
 * edge tiles always did: t + beta·C, not fused).
 */
describe.each([
  { label: "relaxed FMA", fma: true },
  { label: "mul+add", fma: false }
])("cpu gemm trailing columns ($label)", ({ fma }) => {
  it("gives the full micro-tiles' sums bit for bit (every transpose case, several kc blocks, rows past the last full panel)", async () => {
    const cpu = await createCpuBackend({ fma })
    for (const [M, N, K] of [
      [20, 25, 576],
      [22, 27, 300],
      [8, 1, 7],
      [4, 2, 257],
      [12, 11, 40]
    ] as const) {
      const wideN = Math.ceil(N / 8) * 8
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const alpha of [1, 0.75]) {
            const A = randomArray(M * K)
            const wideB = randomArray(K * wideN)
            // op(B)'s first N columns: B is K × N (rows of wideB cut) or N × K (the first N rows of wideB).
            const B = new Float32Array(K * N)
            for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) B[tB ? j * K + k : k * N + j] = wideB[tB ? j * K + k : k * wideN + j]!
            const wide = new Float32Array(M * wideN)
            cpu.gemm(tA, tB, M, wideN, K, alpha, A, 0, wideB, 0, 0, wide, 0)
            for (const beta of [0, 1, 0.5]) {
              const C0 = randomArray(M * N)
              const C = Float32Array.from(C0)
              cpu.gemm(tA, tB, M, N, K, alpha, A, 0, B, 0, beta, C, 0)
              let mismatches = 0
              for (let i = 0; i < M; i++) {
                for (let j = 0; j < N; j++) {
                  // Each kc block's sum is added to C in turn; with one block that is t + beta·C.
                  if (K > 256) continue
                  const t = wide[i * wideN + j]!
                  const expected = beta === 0 ? t : Math.fround(t + Math.fround(beta * C0[i * N + j]!))
                  if (!Object.is(C[i * N + j], expected)) mismatches++
                }
              }
              expect(mismatches, `tA=${tA} tB=${tB} ${M}×${N}×${K} alpha=${alpha} beta=${beta}`).toBe(0)
              if (beta === 0) {
                let differing = 0
                for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) if (!Object.is(C[i * N + j], wide[i * wideN + j])) differing++
                expect(differing, `tA=${tA} tB=${tB} ${M}×${N}×${K} alpha=${alpha}`).toBe(0)
              }
            }
          }
        }
      }
    }
  })
})
