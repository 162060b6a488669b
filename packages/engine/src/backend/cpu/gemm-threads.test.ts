import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CpuBackend, createCpuBackend } from "./cpu-backend.js"
import { firstBitDifference } from "../../testing/bits.js"

/** Every GEMM of a LeNet / CIFAR-10 quick iteration that is large enough to split, plus ragged edges. */
const shapes: ReadonlyArray<readonly [boolean, boolean, number, number, number]> = [
  [false, false, 20, 576, 25], // LeNet conv1 forward (B read in place → split over rows)
  [false, true, 20, 25, 576], // conv1 weight gradient (N = 25: an edge panel)
  [false, false, 50, 64, 500], // conv2 forward
  [false, true, 50, 500, 64], // conv2 weight gradient
  [true, false, 500, 64, 50], // conv2 input gradient (Aᵀ read in place → split over columns)
  [false, true, 64, 500, 800], // ip1 forward
  [true, false, 500, 800, 64], // ip1 weight gradient
  [false, false, 64, 800, 500], // ip1 input gradient
  [false, false, 32, 1024, 75], // CIFAR-10 quick conv1 forward
  [true, true, 37, 70, 513], // two kc blocks, ragged M and N
  [false, false, 130, 2100, 9] // more than one MC block and one NC block
]

const fill = (a: Float32Array, seed: number): Float32Array => {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 1.37 + seed) * (1 + (i % 7))
  return a
}


describe("threaded GEMM", () => {
  let one: CpuBackend
  let two: CpuBackend
  let three: CpuBackend
  beforeAll(async () => {
    one = await createCpuBackend()
    // minFlops 0: every shape above is split, however small.
    two = await createCpuBackend({ threads: 2, split: { minFlops: 0 } })
    three = await createCpuBackend({ threads: 3, split: { minFlops: 0, chunksPerThread: 3 } })
  })
  afterAll(async () => {
    await two?.dispose()
    await three?.dispose()
  })

  it("is bit-identical to one thread for every transpose, alpha and beta (blobs in wasm memory)", () => {
    for (const [tA, tB, M, N, K] of shapes) {
      for (const [alpha, beta] of [
        [1, 0],
        [1, 1],
        [-0.5, 0.3]
      ] as const) {
        const results = [one, two, three].map((b) => {
          const A = fill(b.allocator.allocFloat32(M * K), 1)
          const B = fill(b.allocator.allocFloat32(K * N), 2)
          const C = fill(b.allocator.allocFloat32(M * N), 3)
          b.gemm(tA, tB, M, N, K, alpha, A, 0, B, 0, beta, C, 0)
          return C.slice()
        })
        expect(firstBitDifference(results[1]!, results[0]!), `${tA} ${tB} ${M}×${N}×${K} α ${alpha} β ${beta}`).toBe(-1)
        expect(firstBitDifference(results[2]!, results[0]!), `${tA} ${tB} ${M}×${N}×${K} α ${alpha} β ${beta}, 3 threads`).toBe(-1)
      }
    }
  })

  it("is bit-identical for staged operands (plain Float32Arrays at offsets)", () => {
    const [M, N, K] = [50, 500, 64]
    const results = [one, two].map((b) => {
      const A = fill(new Float32Array(M * K + 5), 4)
      const B = fill(new Float32Array(K * N + 3), 5)
      const C = fill(new Float32Array(M * N + 7), 6)
      b.gemm(false, true, M, N, K, 1, A, 5, B, 3, 1, C, 7)
      return C
    })
    expect(firstBitDifference(results[1]!, results[0]!)).toBe(-1)
  })

  it("hands chunks to the helper threads, still bit-identical", async () => {
    const [M, N, K] = [64, 800, 500]
    const make = (b: CpuBackend) => ({
      A: fill(b.allocator.allocFloat32(M * K), 7),
      B: fill(b.allocator.allocFloat32(K * N), 8),
      C: b.allocator.allocFloat32(M * N)
    })
    const ref = make(one)
    one.gemm(false, false, M, N, K, 1, ref.A, 0, ref.B, 0, 0, ref.C, 0)
    const t = make(three)
    // The helpers start asynchronously and claim whatever the caller has not: repeat until they took part.
    const deadline = Date.now() + 20_000
    while (three.helperChunks === 0 && Date.now() < deadline) {
      three.gemm(false, false, M, N, K, 1, t.A, 0, t.B, 0, 0, t.C, 0)
      expect(firstBitDifference(t.C, ref.C)).toBe(-1)
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(three.helperChunks).toBeGreaterThan(0)
  }, 30_000)

  it("rejects a thread count that is not a whole number ≥ 1", async () => {
    await expect(createCpuBackend({ threads: 0 })).rejects.toThrow(/threads must be a whole number/)
  })
})
