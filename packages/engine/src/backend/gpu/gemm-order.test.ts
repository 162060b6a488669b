/**
 * The gpu GEMM sums in the cpu backend's order (K in blocks of 256, each in k order, block sums added in
 * order; kernel-sources.ts says why Caffe's LeNet trajectory needs it), so with alpha 1 and beta 0 it
 * equals the cpu backend's mul+add GEMM bit for bit — checked at LeNet's K values and around the block
 * edges, every transpose. (alpha ≠ 1 and beta ≠ 0 round differently: the cpu backend scales A while
 * packing and adds C before the later blocks; gpu-backend.test.ts checks those against the reference.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CpuBackend, createCpuBackend } from "../cpu/cpu-backend.js"
import { type GpuBackend, createGpuBackend } from "./gpu-backend.js"
import { GEMM_KC } from "./kernel-sources.js"

let seed = 1701
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed / 2 ** 32 - 0.5
}
const randomArray = (n: number): Float32Array => Float32Array.from({ length: n }, rand)

describe("gpu GEMM summation order", () => {
  let gpu: GpuBackend
  let cpu: CpuBackend
  beforeAll(async () => {
    gpu = await createGpuBackend({ mode: "webasm" })
    cpu = await createCpuBackend({ fma: false })
  })
  afterAll(() => gpu.destroy())

  it("blocks K like the cpu backend's default blocking", () => {
    expect(GEMM_KC).toBe(256)
  })

  it.each([
    [20, 37, 25], // conv1
    [50, 64, 500], // conv2: the call Caffe's seed-1701 trajectory turns on
    [9, 6, 256], // exactly one block
    [5, 7, 257], // one block and one k
    [5, 7, 512],
    [3, 5, 800], // ip1
    [6, 9, 1100]
  ])("%i×%i×%i equals the cpu backend's mul+add GEMM bit for bit (alpha 1, beta 0)", (M, N, K) => {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const A = randomArray(M * K)
        const B = randomArray(K * N)
        const want = new Float32Array(M * N).fill(Number.NaN)
        const got = want.slice()
        cpu.gemm(transA, transB, M, N, K, 1, A, 0, B, 0, 0, want, 0)
        gpu.gemm(transA, transB, M, N, K, 1, A, 0, B, 0, 0, got, 0)
        const differing = want.filter((w, i) => !Object.is(w, got[i])).length
        expect(differing, `transA ${transA} transB ${transB}`).toBe(0)
      }
  })
})
