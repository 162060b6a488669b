import type { SolverParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { CapturingLogger } from "../train/logger.js"
import { updateSolverFromParameter } from "./create-solver.js"
import type { LearnableParam } from "./learnable-param.js"

const param = (data: number[], diff: number[], lrMult = 1, decayMult = 1): LearnableParam => {
  const blob = new Blob([data.length])
  blob.data.set(data)
  blob.diff.set(diff)
  return { blob, lrMult, decayMult }
}
const values = (p: LearnableParam): number[] => Array.from(p.blob.data)
const setDiff = (p: LearnableParam, diff: number[]) => p.blob.diff.set(diff)
const fixed = (extra: SolverParameter): SolverParameter => ({ lr_policy: "fixed", ...extra })

const expectClose = (actual: number[], expected: number[], rel = 1e-6) => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((a, i) => {
    const e = expected[i]!
    expect(Math.abs(a - e)).toBeLessThanOrEqual(rel * Math.max(Math.abs(e), 1e-6))
  })
}

describe("update rules on tiny parameters (hand-computed)", () => {
  it("SGD with momentum", () => {
    const s = updateSolverFromParameter(fixed({ base_lr: 0.1, momentum: 0.9 }))
    const p = param([1, -2], [0.5, 0.25])
    s.applyUpdate([p], 0)
    expectClose(values(p), [0.95, -2.025])
    expectClose(Array.from(s.history[0]!), [0.05, 0.025])
    setDiff(p, [0.5, 0.25])
    s.applyUpdate([p], 1)
    // h = 0.9·0.05 + 0.1·0.5 = 0.095; h = 0.9·0.025 + 0.025 = 0.0475
    expectClose(values(p), [0.855, -2.0725])
    expect(s.history.length).toBe(1)
  })

  it("Nesterov", () => {
    const s = updateSolverFromParameter(fixed({ type: "Nesterov", base_lr: 0.1, momentum: 0.9 }))
    const p = param([1], [0.5])
    s.applyUpdate([p], 0) // h = 0.05; step = 1.9·0.05 − 0.9·0 = 0.095
    expectClose(values(p), [0.905])
    setDiff(p, [0.5])
    s.applyUpdate([p], 1) // h = 0.095; step = 1.9·0.095 − 0.9·0.05 = 0.1355
    expectClose(values(p), [0.7695])
  })

  it("AdaGrad", () => {
    const s = updateSolverFromParameter(fixed({ type: "AdaGrad", base_lr: 0.1, delta: 1e-8 }))
    const p = param([1, 1], [0.5, -2])
    s.applyUpdate([p], 0) // h = g²; step = 0.1·g/|g| = ±0.1
    expectClose(values(p), [0.9, 1.1], 1e-6)
    setDiff(p, [0.5, 0])
    s.applyUpdate([p], 1) // h = 0.5; step = 0.1·0.5/√0.5
    expectClose(values(p), [0.9 - 0.1 * 0.5 / Math.sqrt(0.5), 1.1], 1e-6)
  })

  it("RMSProp", () => {
    const s = updateSolverFromParameter(fixed({ type: "RMSProp", base_lr: 0.01, rms_decay: 0.9, delta: 1e-8 }))
    const p = param([1], [2])
    s.applyUpdate([p], 0) // h = 0.1·4 = 0.4; step = 0.01·2/√0.4
    const step1 = (0.01 * 2) / Math.sqrt(0.4)
    expectClose(values(p), [1 - step1])
    setDiff(p, [1])
    s.applyUpdate([p], 1) // h = 0.9·0.4 + 0.1 = 0.46
    expectClose(values(p), [1 - step1 - 0.01 / Math.sqrt(0.46)])
  })

  it("AdaDelta keeps two history blobs per parameter", () => {
    const s = updateSolverFromParameter(fixed({ type: "AdaDelta", base_lr: 1, momentum: 0.95, delta: 1e-6 }))
    const a = param([1], [0.5])
    const b = param([0, 0], [1, 0])
    s.applyUpdate([a, b], 0)
    const h1 = 0.05 * 0.25
    const u = 0.5 * Math.sqrt(1e-6 / (1e-6 + h1))
    expectClose(values(a), [1 - u], 1e-5)
    expect(s.history.length).toBe(4)
    expectClose(Array.from(s.history[0]!), [h1])
    expectClose(Array.from(s.history[2]!), [0.05 * u * u], 1e-5)
    expect(s.history[3]!.length).toBe(2)
  })

  it("Adam with bias correction from the global iteration", () => {
    const s = updateSolverFromParameter(
      fixed({ type: "Adam", base_lr: 0.001, momentum: 0.9, momentum2: 0.999, delta: 1e-8 })
    )
    const p = param([1], [0.5])
    s.applyUpdate([p], 0)
    const m = 0.05
    const v = 0.00025
    const step = (0.001 * Math.sqrt(1 - 0.999) / (1 - 0.9)) * (m / (Math.sqrt(v) + 1e-8))
    expectClose(values(p), [1 - step], 1e-6)
    expect(s.history.length).toBe(2)
    // At t = 1000 (a resumed run) the correction uses t, not the number of calls.
    const r = updateSolverFromParameter(fixed({ type: "Adam", base_lr: 0.001, momentum: 0.9, momentum2: 0.999 }))
    const q = param([0], [1])
    r.applyUpdate([q], 999)
    const c = Math.sqrt(1 - 0.999 ** 1000) / (1 - 0.9 ** 1000)
    expectClose(values(q), [-(0.001 * c * 0.1) / (Math.sqrt(0.001) + 1e-8)], 1e-5)
  })
})

describe("gradient preprocessing", () => {
  it("lr_mult scales the step", () => {
    const s = updateSolverFromParameter(fixed({ base_lr: 0.1 }))
    const w = param([0], [1], 1)
    const b = param([0], [1], 2)
    s.applyUpdate([w, b], 0)
    expectClose(values(w), [-0.1])
    expectClose(values(b), [-0.2])
  })

  it("L2 weight decay with decay_mult, skipped when decay_mult is 0", () => {
    const s = updateSolverFromParameter(fixed({ base_lr: 1, weight_decay: 0.1 }))
    const a = param([2], [0], 1, 2) // g = 0.1·2·2 = 0.4
    const b = param([2], [0], 1, 0)
    s.applyUpdate([a, b], 0)
    expectClose(values(a), [1.6])
    expect(values(b)).toEqual([2])
  })

  it("L1 weight decay adds decay·sign(w)", () => {
    const s = updateSolverFromParameter(fixed({ base_lr: 1, weight_decay: 0.1, regularization_type: "L1" }))
    const p = param([-2, 3, 0], [0, 0, 0])
    s.applyUpdate([p], 0)
    expectClose(values(p), [-1.9, 2.9, 0])
  })

  it("clip_gradients scales all diffs by clip / global L2 norm and logs it", () => {
    const log = new CapturingLogger()
    const s = updateSolverFromParameter(fixed({ base_lr: 1, clip_gradients: 1 }), log)
    const a = param([0], [3])
    const b = param([0], [4])
    s.applyUpdate([a, b], 0)
    expectClose(values(a), [-0.6])
    expectClose(values(b), [-0.8])
    expect(log.messages).toContain("Gradient clipping: scaling down gradients (L2 norm 5 > 1) by scale factor 0.2")
    // Below the threshold nothing changes.
    const t = updateSolverFromParameter(fixed({ base_lr: 1, clip_gradients: 10 }))
    const c = param([0], [3])
    t.applyUpdate([c], 0)
    expectClose(values(c), [-3])
  })

  it("iter_size divides the accumulated gradient (before decay)", () => {
    const s = updateSolverFromParameter(fixed({ base_lr: 1, iter_size: 4, weight_decay: 0.5 }))
    const p = param([1], [8]) // 8/4 = 2, + 0.5·1 = 2.5
    s.applyUpdate([p], 0)
    expectClose(values(p), [-1.5])
  })

  it("clipping uses the accumulated sum, before normalisation", () => {
    const s = updateSolverFromParameter(fixed({ base_lr: 1, iter_size: 2, clip_gradients: 4 }))
    const p = param([0], [6]) // norm 6 > 4 → 4, then /2 → 2
    s.applyUpdate([p], 0)
    expectClose(values(p), [-2])
  })

  it("logs `Iteration N, lr = R` on display iterations only", () => {
    const log = new CapturingLogger()
    const s = updateSolverFromParameter(
      { base_lr: 0.01, lr_policy: "inv", gamma: 0.0001, power: 0.75, display: 100 },
      log
    )
    const p = param([0], [0])
    s.applyUpdate([p], 99)
    s.applyUpdate([p], 100)
    expect(log.messages).toEqual(["Iteration 100, lr = 0.00992565"])
  })
})

describe("settings checks and state", () => {
  it("AdaGrad and RMSProp refuse momentum; RMSProp needs 0 <= rms_decay < 1; unknown types fail", () => {
    expect(() => updateSolverFromParameter(fixed({ type: "AdaGrad", momentum: 0.9 }))).toThrow(
      /momentum: Momentum cannot be used with AdaGrad/
    )
    expect(() => updateSolverFromParameter(fixed({ type: "RMSProp", momentum: 0.9 }))).toThrow(/RMSProp/)
    expect(() => updateSolverFromParameter(fixed({ type: "RMSProp", rms_decay: 1 }))).toThrow(/rms_decay/)
    expect(() => updateSolverFromParameter(fixed({ type: "Adamax" }))).toThrow(/Unknown solver type: Adamax/)
    expect(() => updateSolverFromParameter(fixed({ regularization_type: "L3" }))).toThrow(/regularization_type/)
    expect(updateSolverFromParameter(fixed({ solver_type: "NESTEROV" })).type).toBe("Nesterov")
  })

  it("history state round-trips and a mismatched state is refused", () => {
    const mk = () => updateSolverFromParameter(fixed({ type: "Adam", base_lr: 0.01, momentum: 0.9 }))
    const run = (s: ReturnType<typeof mk>, p: LearnableParam, from: number, to: number) => {
      for (let it = from; it < to; it++) {
        setDiff(p, [Math.sin(it), Math.cos(it)])
        s.applyUpdate([p], it)
      }
    }
    const straight = mk()
    const p1 = param([1, 2], [0, 0])
    run(straight, p1, 0, 6)
    const first = mk()
    const p2 = param([1, 2], [0, 0])
    run(first, p2, 0, 3)
    const resumed = mk()
    resumed.restoreState(first.getState(), [p2])
    run(resumed, p2, 3, 6)
    expect(values(p2)).toEqual(values(p1))
    const other = param([1, 2, 3], [0, 0, 0])
    expect(() => mk().restoreState(first.getState(), [other])).toThrow(/history blob 0/)
    const sgd = updateSolverFromParameter(fixed({}))
    expect(() => sgd.restoreState(first.getState(), [p2])).toThrow(/Incorrect length of history blobs/)
  })
})
