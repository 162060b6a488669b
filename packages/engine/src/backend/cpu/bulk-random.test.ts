import { describe, expect, it } from "vitest"
import { Rng } from "../../core/rng.js"
import { zigguratTables } from "../../core/ziggurat.js"
import { firstBitDifference } from "../../testing/bits.js"
import { createCpuBackend } from "./cpu-backend.js"

describe("cpu backend bulkRandom (wasm mt19937 twist + ziggurat)", () => {
  it("gives Rng.fillGaussian's samples and leaves the generator in the same state, bit for bit", async () => {
    const cpu = await createCpuBackend()
    const js = new Rng(1701)
    const wasm = new Rng(1701)
    // Uneven counts and offsets: runs that end mid-state, several twists, blobs in and outside wasm memory.
    const calls: ReadonlyArray<readonly [number, number, number, number]> = [
      [0, 1000, 0, 1],
      [7, 50_000, 2, 3],
      [3, 623, -1, 0.5],
      [0, 307_200, 0, 1]
    ]
    for (const [start, count, mean, std] of calls) {
      const a = new Float32Array(start + count)
      const inHeap = cpu.allocator.allocFloat32(start + count)
      const plain = new Float32Array(start + count)
      js.fillGaussian(a, start, count, mean, std)
      wasm.fillGaussian(count % 2 === 0 ? inHeap : plain, start, count, mean, std, cpu.bulkRandom)
      const b = count % 2 === 0 ? inHeap : plain
      expect(firstBitDifference(a, b), `${count} values from ${start}`).toBe(-1)
      expect(js.nextUint32()).toBe(wasm.nextUint32())
    }
    // Other draws keep working on the moved state.
    expect(js.nextDouble()).toBe(wasm.nextDouble())
    expect(js.gaussian(0, 1)).toBe(wasm.gaussian(0, 1))
  })
})

describe("cpu backend bulkRandom uniform fill (wasm mt19937 + four words at a time)", () => {
  it("gives Rng.fillUniform's samples and leaves the generator in the same state, bit for bit, interleaved with Gaussian fills", async () => {
    const cpu = await createCpuBackend()
    const js = new Rng(1702)
    const wasm = new Rng(1702)
    // Uneven counts and offsets (runs that end mid-state, scalar tails), ranges Caffe's nets use and odd ones.
    const calls: ReadonlyArray<readonly [number, number, number, number]> = [
      [0, 1001, 0, 1],
      [5, 50_000, -0.3, 0.7],
      [2, 623, 1e-3, 2.5],
      [0, 64 * 784, 0, 255],
      [1, 3, -1, 1]
    ]
    for (const [start, count, min, max] of calls) {
      const a = new Float32Array(start + count)
      const inHeap = cpu.allocator.allocFloat32(start + count)
      const plain = new Float32Array(start + count)
      const b = count % 2 === 0 ? inHeap : plain
      js.fillUniform(a, start, count, min, max)
      wasm.fillUniform(b, start, count, min, max, cpu.bulkRandom)
      expect(firstBitDifference(a, b), `${count} values in [${min}, ${max}) from ${start}`).toBe(-1)
      const filled = Array.from(b.subarray(start))
      expect(Math.min(...filled)).toBeGreaterThanOrEqual(Math.fround(min))
      expect(Math.max(...filled)).toBeLessThanOrEqual(Math.fround(max))
      expect(js.nextUint32()).toBe(wasm.nextUint32())
      // A Gaussian fill between uniform ones draws from the same moved state.
      const g1 = new Float32Array(97)
      const g2 = new Float32Array(97)
      js.fillGaussian(g1, 0, 97, 0, 1)
      wasm.fillGaussian(g2, 0, 97, 0, 1, cpu.bulkRandom)
      expect(Array.from(g2)).toEqual(Array.from(g1))
    }
  })
})

describe("cpu backend exp_estimate (the ziggurat test's stand-in for Math.exp)", () => {
  it("is within 1e-14 relative of Math.exp over the test's range, so decisions outside its 1e-12 band are Math.exp's", async () => {
    const cpu = await createCpuBackend()
    const estimate = cpu.kernels.exports.exp_estimate as (z: number) => number
    let worst = 0
    for (let i = 0; i <= 200_000; i++) {
      const z = -6 * (i / 200_000) ** 0.7
      worst = Math.max(worst, Math.abs(estimate(z) - Math.exp(z)) / Math.exp(z))
    }
    expect(worst).toBeLessThan(1e-14)
  })
})

describe("the four-word ziggurat path's bound", () => {
  it("x = j·w ≥ k·w holds exactly when j ≥ k in every layer (w > 0, and (k−1)·w < k·w after rounding)", () => {
    const { k, w } = zigguratTables
    for (let layer = 0; layer < 128; layer++) {
      expect(w[layer]!, `layer ${layer}`).toBeGreaterThan(0)
      if (k[layer]! > 0) expect((k[layer]! - 1) * w[layer]!, `layer ${layer}`).toBeLessThan(k[layer]! * w[layer]!)
    }
  })
})
