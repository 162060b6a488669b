import { describe, expect, it } from "vitest"
import {
  allFinite,
  centerAddDelta,
  centerElastic,
  distance,
  meanOf,
  progressExchange,
  syncElasticRound,
  workerDelta,
  workerElastic,
  workerPseudoGradient
} from "./kernels.js"

const f32 = (...v: number[]) => Float32Array.from(v)

describe("elastic exchange kernels", () => {
  it("async-easgd: center moves by α_s towards x_i and replies with x̃ before the update", () => {
    const center = f32(0, 10)
    const reply = new Float32Array(2)
    centerElastic(center, f32(10, 0), 0.1, reply)
    expect([...reply]).toEqual([0, 10])
    expect(center[0]).toBeCloseTo(1, 6)
    expect(center[1]).toBeCloseTo(9, 6)
  })

  it("worker moves by α towards the old center", () => {
    const worker = f32(10, 0)
    workerElastic(worker, f32(0, 10), 0.25)
    expect(worker[0]).toBeCloseTo(7.5, 6)
    expect(worker[1]).toBeCloseTo(2.5, 6)
  })

  it("easgd conserves the sum x_i + x̃ when α_s = α (elastic symmetry)", () => {
    const center = f32(1, -2, 3)
    const worker = f32(4, 5, -6)
    const before = [...center].map((c, k) => c + worker[k]!)
    const reply = new Float32Array(3)
    centerElastic(center, worker, 0.3, reply)
    workerElastic(worker, reply, 0.3)
    const after = [...center].map((c, k) => c + worker[k]!)
    after.forEach((s, k) => expect(s).toBeCloseTo(before[k]!, 5))
  })

  it("sync-easgd round uses β = pα over the mean of the workers", () => {
    const center = f32(0)
    const ws = [f32(2), f32(4)]
    syncElasticRound(center, ws, 0.1)
    // β = 0.2: x̃ = 0.8·0 + 0.2·3 = 0.6; workers move by α towards the old x̃ (0).
    expect(center[0]).toBeCloseTo(0.6, 6)
    expect(ws[0]![0]).toBeCloseTo(1.8, 6)
    expect(ws[1]![0]).toBeCloseTo(3.6, 6)
  })

  it("sync-avg's mean of a round's messages: summed in double precision, in a kept scratch buffer or a fresh one", () => {
    const out = f32(100, 100)
    meanOf(out, [f32(1, 0.1), f32(3, 0.2)])
    expect(out[0]).toBe(2)
    expect(out[1]).toBe(Math.fround((Math.fround(0.1) + Math.fround(0.2)) / 2))
    const scratch = new Float64Array(2).fill(7)
    meanOf(out, [f32(5, 5), f32(7, 7), f32(9, 9)], scratch)
    expect([...out]).toEqual([7, 7])
    // A scratch buffer of the wrong length is not used.
    meanOf(out, [f32(1, 1)], new Float64Array(1))
    expect([...out]).toEqual([1, 1])
  })

  it("downpour pushes the accumulated delta", () => {
    const delta = new Float32Array(2)
    workerDelta(f32(3, 4), f32(1, 1), delta)
    const center = f32(10, 10)
    centerAddDelta(center, delta)
    expect([...center]).toEqual([12, 13])
  })

  it("a worker's progress is x_i − x_pull (DiLoCo's pseudo-gradient x_pull − x_i) in float32 for every value, the unrolled loop's remainder included", () => {
    for (const n of [1, 4, 7, 10_003]) {
      const x = new Float32Array(n)
      const pull = new Float32Array(n)
      for (let k = 0; k < n; k++) {
        x[k] = Math.sin(k + 1) * 3
        pull[k] = Math.cos(k * 0.7) * 2
      }
      const delta = new Float32Array(n)
      const pseudo = new Float32Array(n)
      workerDelta(x, pull, delta)
      workerPseudoGradient(x, pull, pseudo)
      expect(Array.from(delta)).toEqual(Array.from(x, (v, k) => Math.fround(v - pull[k]!)))
      expect(Array.from(pseudo)).toEqual(Array.from(x, (v, k) => Math.fround(pull[k]! - v)))
    }
  })

  it("a downpour exchange adds scale·Δ with one float32 rounding per value, writes the new x̃ to the reply and returns Σ Δ²", () => {
    const n = 10_001
    const center = new Float32Array(n)
    const delta = new Float32Array(n)
    for (let k = 0; k < n; k++) {
      center[k] = Math.sin(k) * 3
      delta[k] = Math.cos(k * 1.7) * 1e-3
    }
    for (const scale of [1, 0.7, 1 / 3]) {
      const expected = center.map((c, k) => c + Math.fround(scale) * delta[k]!)
      const added = center.slice()
      centerAddDelta(added, delta)
      const reply = new Float32Array(n)
      const x = center.slice()
      const squared = progressExchange(x, delta, scale, reply)
      expect(squared).toBeCloseTo(delta.reduce((s, d) => s + d * d, 0), 12)
      expect(Array.from(x)).toEqual(Array.from(expected))
      expect(Array.from(reply)).toEqual(Array.from(expected))
      if (scale === 1) expect(Array.from(x)).toEqual(Array.from(added))
    }
  })

  it("a downpour exchange with a non-finite Δ leaves x̃ untouched", () => {
    for (const bad of [NaN, Infinity, -Infinity])
      for (const at of [1, 5, 8]) {
        // The bad value in the unrolled body, in its last step, and in the remainder.
        const x = f32(1, 2, 3, 4, 5, 6, 7, 8, 9)
        const delta = new Float32Array(9).fill(0.5)
        delta[at] = bad
        expect(Number.isFinite(progressExchange(x, delta, 1, new Float32Array(9)))).toBe(false)
        expect([...x]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
      }
    // The largest float32 squared is still finite in double precision: no false alarm.
    expect(Number.isFinite(progressExchange(f32(0), f32(3.4e38), 1e-38, new Float32Array(1)))).toBe(true)
  })

  it("detects non-finite parameters and measures distance", () => {
    expect(allFinite(f32(1, 2))).toBe(true)
    expect(allFinite(f32(1, NaN))).toBe(false)
    expect(allFinite(f32(Infinity))).toBe(false)
    expect(distance(f32(0, 0), f32(3, 4))).toBe(5)
  })

  it("rejects mismatched lengths", () => {
    expect(() => centerElastic(f32(1), f32(1, 2), 0.1, null)).toThrow(/length/)
  })
})
