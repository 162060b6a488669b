import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { fillBlob } from "./fill.js"

const stats = (b: Blob) => {
  let s = 0
  let s2 = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < b.count; i++) {
    const v = b.data[i]!
    s += v
    s2 += v * v
    min = Math.min(min, v)
    max = Math.max(max, v)
  }
  const mean = s / b.count
  return { mean, std: Math.sqrt(s2 / b.count - mean * mean), min, max }
}

describe("fillers", () => {
  it("constant defaults to 0 and uses value", () => {
    const b = new Blob([2, 3])
    b.data.fill(5)
    fillBlob(b, undefined, new Rng(1))
    expect(Array.from(b.data)).toEqual([0, 0, 0, 0, 0, 0])
    fillBlob(b, { type: "constant", value: 0.1 }, new Rng(1))
    expect(b.data[5]).toBe(Math.fround(0.1))
  })
  it("uniform lies in [min, max) with the right mean", () => {
    const b = new Blob([100, 100])
    fillBlob(b, { type: "uniform", min: -2, max: 4 }, new Rng(2))
    const s = stats(b)
    expect(s.min).toBeGreaterThanOrEqual(-2)
    expect(s.max).toBeLessThan(4)
    expect(s.mean).toBeCloseTo(1, 1)
    expect(s.std).toBeCloseTo(6 / Math.sqrt(12), 1)
  })
  it("gaussian has the requested mean and std; sparse keeps sparse/shape[0] of the weights", () => {
    const b = new Blob([100, 200])
    fillBlob(b, { type: "gaussian", mean: 1, std: 3 }, new Rng(3))
    const s = stats(b)
    expect(s.mean).toBeCloseTo(1, 1)
    expect(s.std).toBeCloseTo(3, 1)
    fillBlob(b, { type: "gaussian", std: 1, sparse: 15 }, new Rng(4))
    let nz = 0
    for (let i = 0; i < b.count; i++) if (b.data[i] !== 0) nz++
    expect(nz / b.count).toBeCloseTo(0.15, 2)
  })
  it("xavier: U(±√(3/n)) with n from variance_norm", () => {
    // shape (50, 40, 3, 3): fan_in = 360, fan_out = 450
    for (const [norm, n] of [["FAN_IN", 360], ["FAN_OUT", 450], ["AVERAGE", 405]] as const) {
      const b = new Blob([50, 40, 3, 3])
      fillBlob(b, { type: "xavier", variance_norm: norm }, new Rng(5))
      const s = stats(b)
      const limit = Math.sqrt(3 / n)
      expect(s.max).toBeLessThanOrEqual(limit)
      expect(s.min).toBeGreaterThanOrEqual(-limit)
      expect(s.max).toBeGreaterThan(limit * 0.99)
      expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 2)
    }
  })
  it("msra: N(0, √(2/n))", () => {
    const b = new Blob([64, 50, 5, 5])
    fillBlob(b, { type: "msra", variance_norm: "FAN_OUT" }, new Rng(6))
    const s = stats(b)
    expect(s.mean).toBeCloseTo(0, 2)
    expect(s.std / Math.sqrt(2 / 1600)).toBeCloseTo(1, 1)
  })
  it("positive_unitball rows are positive and sum to 1", () => {
    const b = new Blob([4, 3, 2])
    fillBlob(b, { type: "positive_unitball" }, new Rng(7))
    for (let r = 0; r < 4; r++) {
      let s = 0
      for (let j = 0; j < 6; j++) {
        expect(b.data[r * 6 + j]).toBeGreaterThan(0)
        s += b.data[r * 6 + j]!
      }
      expect(s).toBeCloseTo(1, 5)
    }
  })
  it("bilinear gives the exact upsampling kernel", () => {
    // K = 4: f = 2, c = 3/4; 1-D weights (1 − |x/2 − 0.75|) = 0.25, 0.75, 0.75, 0.25
    const b = new Blob([1, 1, 4, 4])
    fillBlob(b, { type: "bilinear" }, new Rng(8))
    const w = [0.25, 0.75, 0.75, 0.25]
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) expect(b.data[y * 4 + x]).toBe(w[x]! * w[y]!)
    // K = 3: f = 2, c = 0.5: weights 0.5, 1, 0.5
    const b3 = new Blob([2, 1, 3, 3])
    fillBlob(b3, { type: "bilinear" }, new Rng(8))
    expect(Array.from(b3.data.subarray(9, 18))).toEqual([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
  })
  it("rejects unknown types and sparse outside gaussian", () => {
    expect(() => fillBlob(new Blob([2]), { type: "nope" }, new Rng())).toThrow(/unknown filler type "nope"/)
    expect(() => fillBlob(new Blob([2]), { type: "xavier", sparse: 3 }, new Rng())).toThrow(/sparse/)
  })
})
