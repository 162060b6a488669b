import type { SolverParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { formatG } from "../train/format-g.js"
import { learningRate } from "./lr-policy.js"
import { updateSettingsFrom } from "./update-settings.js"

const settings = (p: SolverParameter) => updateSettingsFrom(p)
const rateAt = (p: SolverParameter, iter: number, step = 0) => learningRate(settings(p), iter, step).rate

describe("learning-rate policies (float32 like Caffe)", () => {
  const lenet: SolverParameter = { base_lr: 0.01, lr_policy: "inv", gamma: 0.0001, power: 0.75 }

  it("inv reproduces Caffe's LeNet rates", () => {
    expect(formatG(rateAt(lenet, 0))).toBe("0.01")
    expect(formatG(rateAt(lenet, 100))).toBe("0.00992565")
    expect(formatG(rateAt(lenet, 200))).toBe("0.00985258")
    expect(formatG(rateAt(lenet, 300))).toBe("0.00978075")
    expect(formatG(rateAt(lenet, 400))).toBe("0.00971013")
    expect(formatG(rateAt(lenet, 500))).toBe("0.00964069")
    expect(formatG(rateAt(lenet, 9600))).toBe("0.00603682")
    expect(formatG(rateAt(lenet, 9900))).toBe("0.00596843")
    expect(formatG(rateAt(lenet, 10000))).toBe("0.00594604")
  })

  it("inv matches the lr column of the seed-1701 reference run (iterations 0..19)", () => {
    const expected = [
      "0.01", "0.00999925", "0.0099985", "0.00999775", "0.009997", "0.00999625", "0.0099955", "0.00999475",
      "0.009994", "0.00999326", "0.00999251", "0.00999176", "0.00999101", "0.00999026", "0.00998951",
      "0.00998876", "0.00998802", "0.00998727", "0.00998652", "0.00998577"
    ]
    expect(expected.map((_, i) => formatG(rateAt(lenet, i)))).toEqual(expected)
  })

  it("multistep walks 0.01, 0.009, 0.0081, 0.00729, 0.006561, 0.0059049 and steps at most once per call", () => {
    const s = settings({
      base_lr: 0.01,
      lr_policy: "multistep",
      gamma: 0.9,
      stepvalue: [5000, 7000, 8000, 9000, 9500]
    })
    const seen: string[] = []
    const changes: number[] = []
    let step = 0
    for (let it = 0; it <= 10000; it++) {
      const r = learningRate(s, it, step)
      if (r.advanced) changes.push(it)
      step = r.currentStep
      const text = formatG(r.rate)
      if (seen[seen.length - 1] !== text) seen.push(text)
    }
    expect(seen).toEqual(["0.01", "0.009", "0.0081", "0.00729", "0.006561", "0.0059049"])
    expect(changes).toEqual([5000, 7000, 8000, 9000, 9500])
    // Resuming far past several step values still advances one step per iteration.
    const late = learningRate(s, 9999, 0)
    expect(late.currentStep).toBe(1)
    expect(learningRate(s, 10000, late.currentStep).currentStep).toBe(2)
  })

  it("fixed, step, exp, poly and sigmoid", () => {
    expect(rateAt({ base_lr: 0.001, lr_policy: "fixed" }, 12345)).toBe(Math.fround(0.001))
    const step: SolverParameter = { base_lr: 0.01, lr_policy: "step", gamma: 0.1, stepsize: 100 }
    expect(formatG(rateAt(step, 99))).toBe("0.01")
    expect(formatG(rateAt(step, 100))).toBe("0.001")
    expect(formatG(rateAt(step, 250))).toBe("0.0001")
    expect(learningRate(settings(step), 250, 0).currentStep).toBe(2)
    expect(rateAt({ base_lr: 0.01, lr_policy: "exp", gamma: 0.99 }, 2)).toBeCloseTo(0.009801, 9)
    const poly: SolverParameter = { base_lr: 0.01, lr_policy: "poly", power: 0.5, max_iter: 100 }
    expect(rateAt(poly, 75)).toBeCloseTo(0.005, 9)
    expect(rateAt(poly, 100)).toBe(0)
    const sig: SolverParameter = { base_lr: 0.01, lr_policy: "sigmoid", gamma: 0.1, stepsize: 50 }
    expect(rateAt(sig, 50)).toBeCloseTo(0.005, 9)
    expect(rateAt(sig, 60)).toBeCloseTo(0.01 / (1 + Math.exp(-1)), 8)
  })

  it("rejects a missing or unknown policy and bad step settings, naming the field", () => {
    expect(() => settings({ base_lr: 0.01 })).toThrow(/lr_policy: must be set/)
    expect(() => settings({ base_lr: 0.01, lr_policy: "cosine" })).toThrow(/Unknown learning rate policy: cosine/)
    expect(() => settings({ base_lr: 0.01, lr_policy: "step", gamma: 0.1 })).toThrow(/stepsize: must be > 0/)
    expect(() => settings({ base_lr: 0.01, lr_policy: "inv", gamma: -1, power: 1 })).toThrow(/gamma: must be >= 0/)
  })
})
