import { describe, expect, it } from "vitest"
import { Rng } from "./rng.js"

describe("Rng", () => {
  it("is mt19937: the C++ standard's check values for the default seed 5489", () => {
    const rng = new Rng(5489)
    expect(rng.nextUint32()).toBe(3499211612)
    for (let i = 2; i < 10000; i++) rng.nextUint32()
    // [rand.predef]: the 10000th consecutive invocation of a default-constructed mt19937 gives 4123659995.
    expect(rng.nextUint32()).toBe(4123659995)
  })

  it("fillGaussian draws N(mean, std): moments, tail mass and symmetry of 10^6 samples", () => {
    const rng = new Rng(1701)
    const n = 1_000_000
    const out = new Float32Array(n)
    rng.fillGaussian(out, 0, n, 2, 3)
    let sum = 0
    let sq = 0
    let beyond2 = 0
    let beyond3 = 0
    let below = 0
    for (let i = 0; i < n; i++) {
      const z = (out[i]! - 2) / 3
      sum += z
      sq += z * z
      if (Math.abs(z) > 2) beyond2++
      if (Math.abs(z) > 3.5) beyond3++
      if (z < 0) below++
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.005)
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.01)
    // P(|Z| > 2) = 0.0455, P(|Z| > 3.5) = 4.65e-4 (the ziggurat's tail starts at 3.44).
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.002)
    expect(Math.abs(beyond3 / n - 4.65e-4)).toBeLessThan(1e-4)
    expect(Math.abs(below / n - 0.5)).toBeLessThan(0.002)
  })

  it("fillGaussian matches the normal CDF in every decile and is repeatable per seed", () => {
    const n = 100_000
    const a = new Float32Array(n)
    const b = new Float32Array(n)
    new Rng(7).fillGaussian(a, 0, n, 0, 1)
    new Rng(7).fillGaussian(b, 0, n, 0, 1)
    expect(b).toEqual(a)
    // Deciles of N(0, 1).
    const deciles = [-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816]
    const counts = new Array<number>(10).fill(0)
    for (const x of a) {
      let d = 0
      while (d < 9 && x > deciles[d]!) d++
      counts[d]!++
    }
    for (const c of counts) expect(Math.abs(c / n - 0.1)).toBeLessThan(0.005)
  })

  it("fillGaussian writes only its range", () => {
    const out = new Float32Array(10).fill(42)
    new Rng(1).fillGaussian(out, 3, 4, 0, 1)
    expect([...out.subarray(0, 3), ...out.subarray(7)]).toEqual([42, 42, 42, 42, 42, 42])
    expect(out.subarray(3, 7).every((x) => x !== 42 && Number.isFinite(x))).toBe(true)
  })

  it("fillUniform draws in [min, max) with uniform deciles, only in its range", () => {
    const n = 100_000
    const out = new Float32Array(n + 2).fill(42)
    new Rng(11).fillUniform(out, 1, n, -2, 3)
    expect(out[0]).toBe(42)
    expect(out[n + 1]).toBe(42)
    const counts = new Array<number>(10).fill(0)
    for (let i = 1; i <= n; i++) {
      const x = out[i]!
      expect(x >= -2 && x < 3).toBe(true)
      counts[Math.floor((x + 2) * 2)]!++
    }
    for (const c of counts) expect(Math.abs(c / n - 0.1)).toBeLessThan(0.005)
  })
})
