import { describe, expect, it } from "vitest"
import { isRuleName, ruleByName, ruleNames } from "./rule-registry.js"
import { makeEasgdSettings, type EasgdSettings } from "./settings.js"
import { composeMessage, type AsyncRule, type SyncRule } from "./update-rule.js"

const f32 = (...v: number[]) => Float32Array.from(v)
const settings = (values: Record<string, string | number | boolean>): EasgdSettings => makeEasgdSettings(values)
const asyncRule = (name: string) => ruleByName(name) as AsyncRule
const syncRule = (name: string) => ruleByName(name) as SyncRule

/** One asynchronous exchange through a rule's center side. */
const exchange = (name: string, values: Record<string, string | number | boolean>, center: Float32Array, message: Float32Array, staleness = 0, side = asyncRule(name).center(settings({ rule: name, ...values }), 2, center.length)) => {
  const reply = new Float32Array(center.length)
  const outcome = side.exchange(center, { message, reply, staleness, exchanges: 0 })
  return { outcome, reply, side }
}

describe("the rule registry", () => {
  it("lists every rule once, the default (downpour) first", () => {
    expect(ruleNames).toEqual(["downpour", "async-easgd", "easgd", "eamsgd", "sync-easgd", "sync-avg", "sync-sgd", "single", "diloco", "async-diloco"])
    expect(isRuleName("diloco")).toBe(true)
    expect(isRuleName("gossip")).toBe(false)
    expect(() => ruleByName("gossip")).toThrow(/unknown update rule "gossip" \(known: downpour, async-easgd, /)
  })

  it("each rule says what its workers send and whether it runs in rounds", () => {
    const table = Object.fromEntries(ruleNames.map((n) => [n, `${ruleByName(n).sends}${ruleByName(n).synchronous ? " sync" : ""}`]))
    expect(table).toEqual({
      "async-easgd": "params",
      easgd: "params",
      eamsgd: "params",
      "sync-easgd": "params sync",
      "sync-avg": "params sync",
      "sync-sgd": "params sync",
      downpour: "progress",
      single: "params",
      diloco: "pseudo-gradient sync",
      "async-diloco": "pseudo-gradient"
    })
  })

  it("eamsgd asks for Nesterov local steps with its momentum; the others keep the solver's", () => {
    expect(ruleByName("eamsgd").localSolver?.(settings({ rule: "eamsgd", eamsgd_momentum: 0.95 }))).toEqual({ type: "Nesterov", momentum: 0.95 })
    for (const n of ruleNames.filter((n) => n !== "eamsgd")) expect(ruleByName(n).localSolver).toBeUndefined()
  })
})

describe("what a worker sends", () => {
  it("x_i, its progress x_i − x_pull (downpour) or the pseudo-gradient x_pull − x_i (DiLoCo)", () => {
    const params = f32(3, 5)
    const pull = f32(1, 1)
    const out = new Float32Array(2)
    expect(composeMessage("params", params, pull, out)).toBe(params)
    expect([...composeMessage("progress", params, pull, out)]).toEqual([2, 4])
    expect([...composeMessage("pseudo-gradient", params, pull, out)]).toEqual([-2, -4])
  })
})

describe("the elastic rules", () => {
  it("async-easgd: x̃ moves by α_s = moving_rate × server_factor, the reply is x̃ before, the worker gets α", () => {
    const center = f32(0, 10)
    const { outcome, reply } = exchange("async-easgd", { moving_rate: 0.1, server_factor: 2 }, center, f32(10, 0))
    expect([...reply]).toEqual([0, 10])
    expect(center[0]).toBeCloseTo(2, 5)
    expect(outcome).toEqual({ applied: true, alpha: 0.1, distance: Math.sqrt(200) })
    const worker = f32(10, 0)
    const next = asyncRule("async-easgd").workerStep(worker, reply, 0.1)
    expect(next).toBe(worker)
    expect(worker[0]).toBeCloseTo(9, 5)
  })

  it("staleness_aware divides the center's rate by 1 + staleness", () => {
    const center = f32(0)
    exchange("async-easgd", { moving_rate: 0.4, staleness_aware: true }, center, f32(10), 3)
    expect(center[0]).toBeCloseTo(1, 5) // 0.4 / 4 × 10
    const easgd = f32(0)
    exchange("easgd", { moving_rate: 0.4, staleness_aware: true }, easgd, f32(10), 1)
    expect(easgd[0]).toBeCloseTo(2, 5)
  })

  it("easgd moves both by the same α (server_factor unused)", () => {
    const center = f32(0)
    const { outcome } = exchange("easgd", { moving_rate: 0.25, server_factor: 4 }, center, f32(8))
    expect(center[0]).toBe(2)
    expect(outcome.applied && outcome.alpha).toBe(0.25)
  })

  it("single: the center takes x_i, the worker keeps its own", () => {
    const center = f32(0, 0)
    const { outcome, reply } = exchange("single", {}, center, f32(4, 5))
    expect([...center]).toEqual([4, 5])
    expect(outcome.applied && outcome.alpha).toBe(0)
    const worker = f32(4, 5)
    expect(ruleByName("single").workerStep(worker, reply, 0)).toBe(worker)
    expect([...worker]).toEqual([4, 5])
  })

  it("a non-finite x_i is not absorbed: x̃ unchanged, the reply holds x̃", () => {
    for (const name of ["async-easgd", "easgd", "single"]) {
      const center = f32(1, 2)
      const { outcome, reply } = exchange(name, {}, center, f32(NaN, 2))
      expect(outcome.applied).toBe(false)
      expect([...center]).toEqual([1, 2])
      expect([...reply]).toEqual([1, 2])
    }
  })
})

describe("downpour", () => {
  it("x̃ += Δ and the worker continues from x̃ after the update; reports ‖Δ‖", () => {
    const center = f32(10, 10)
    const { outcome, reply } = exchange("downpour", { progress_warmup: 0 }, center, f32(3, 4))
    expect([...center]).toEqual([13, 14])
    expect([...reply]).toEqual([13, 14])
    expect(outcome).toEqual({ applied: true, alpha: 1, distance: 5 })
    expect(ruleByName("downpour").workerStep(f32(0, 0), reply, 1)).toBe(reply)
  })

  it("with staleness_aware: x̃ += Δ / (1 + staleness)", () => {
    const center = f32(10)
    exchange("downpour", { staleness_aware: true, progress_warmup: 0 }, center, f32(3), 2)
    expect(center[0]).toBe(11)
  })

  it("warms up from the mean of the workers' progress to their sum, bounded to progress_gain workers' worth", () => {
    const step = (values: Record<string, number>, workers: number, exchanges: number) => {
      const center = f32(0)
      const side = asyncRule("downpour").center(settings({ rule: "downpour", ...values }), workers, 1)
      side.exchange(center, { message: f32(8), reply: new Float32Array(1), staleness: 0, exchanges })
      return center[0]
    }
    // Defaults: τ 5, warm-up 300 iterations per worker, gain 2. Two workers: ½ Δ at first, Δ after
    // 300 · 2 / 5 = 120 exchanges, ¾ Δ half-way.
    expect(step({}, 2, 0)).toBe(4)
    expect(step({}, 2, 60)).toBe(6)
    expect(step({}, 2, 120)).toBe(8)
    expect(step({}, 2, 5000)).toBe(8)
    // Three workers: ⅓ Δ at first, then at most 2 workers' worth: ⅔ Δ.
    expect(step({}, 3, 0)).toBeCloseTo(8 / 3, 5)
    expect(step({}, 3, 5000)).toBeCloseTo(16 / 3, 5)
    // Four workers: ¼ Δ at first, then 1.5 workers' worth: ⅜ Δ.
    expect(step({}, 4, 0)).toBe(2)
    expect(step({}, 4, 5000)).toBe(3)
    // progress_gain 0: the plain sum; a lone worker always adds its whole Δ.
    expect(step({ progress_gain: 0, progress_warmup: 0 }, 4, 0)).toBe(8)
    expect(step({}, 1, 0)).toBe(8)
  })

  it("beyond progress_gain + 1 workers the bound shrinks as G(G+1)/N, down to the workers' mean", () => {
    const full = (gain: number, workers: number) => {
      const center = f32(0)
      const side = asyncRule("downpour").center(settings({ rule: "downpour", progress_gain: gain }), workers, 1)
      side.exchange(center, { message: f32(48), reply: new Float32Array(1), staleness: 0, exchanges: 1e6 })
      return center[0]! * workers / 48 // workers' worth per round of N arrivals
    }
    expect([2, 3, 4, 5, 6, 8, 16].map((n) => full(2, n))).toEqual([2, 2, 1.5, 1.2, 1, 1, 1].map((v) => expect.closeTo(v, 6)))
    expect([4, 5, 10, 20, 40].map((n) => full(4, n))).toEqual([4, 4, 2, 1, 1].map((v) => expect.closeTo(v, 6)))
    expect(full(1, 8)).toBeCloseTo(1, 6)
  })

  it("scales by the workers present: a run that lost a worker adds the progress of those that train", () => {
    const step = (workers: number, workersPresent: number | undefined, exchanges: number) => {
      const center = f32(0)
      const side = asyncRule("downpour").center(settings({ rule: "downpour" }), workers, 1)
      side.exchange(center, { message: f32(8), reply: new Float32Array(1), staleness: 0, exchanges, ...(workersPresent === undefined ? {} : { workersPresent }) })
      return center[0]
    }
    // Two planned workers, one left: the one that trains adds its whole Δ, warm-up or not.
    expect(step(2, 1, 0)).toBe(8)
    expect(step(2, 1, 5000)).toBe(8)
    // Four planned, two present: as a 2-worker run (½ Δ at first).
    expect(step(4, 2, 0)).toBe(4)
    expect(step(4, undefined, 0)).toBe(2)
  })

  it("a non-finite Δ is not absorbed", () => {
    const center = f32(1, 2)
    const { outcome, reply } = exchange("downpour", {}, center, f32(Infinity, 0))
    expect(outcome.applied).toBe(false)
    expect([...center]).toEqual([1, 2])
    expect([...reply]).toEqual([1, 2])
  })
})

describe("the synchronous rounds", () => {
  it("sync-easgd: x̃ ← (1−β)x̃ + β·mean, β = pα; workers move by α towards x̃_old", () => {
    const center = f32(0)
    const side = syncRule("sync-easgd").center(settings({ rule: "sync-easgd", moving_rate: 0.1 }), 2, 1)
    const replies = side.round(center, [f32(2), f32(4)], 0)
    expect(center[0]).toBeCloseTo(0.6, 6)
    expect(replies.map((r) => r.reply[0])).toEqual([Math.fround(1.8), Math.fround(3.6)])
  })

  it("sync-avg: everyone gets the mean", () => {
    const center = f32(100)
    const side = syncRule("sync-avg").center(settings({ rule: "sync-avg" }), 2, 1)
    const replies = side.round(center, [f32(1), f32(3)], 0)
    expect(center[0]).toBe(2)
    expect(replies.map((r) => r.reply[0])).toEqual([2, 2])
  })

  it("sync-sgd: its round of one momentum-SGD step per worker is one step of the workers' mean gradient (a batch N times larger)", () => {
    // Worker i's loss ½‖x − a_i‖² (gradient x − a_i); each keeps its own momentum history, as Caffe's solver does.
    const targets = [f32(1, -2, 0.5), f32(3, 4, -1.5), f32(-2, 0, 2)]
    const [lr, mu] = [0.1, 0.9]
    const side = syncRule("sync-sgd").center(settings({ rule: "sync-sgd" }), 3, 3)
    const center = f32(0, 0, 0)
    const histories = targets.map(() => new Float64Array(3))
    const big = { x: new Float64Array(3), v: new Float64Array(3) }
    for (let step = 0; step < 20; step++) {
      const messages = targets.map((a, i) => {
        const x = new Float32Array(center)
        for (let k = 0; k < 3; k++) {
          histories[i]![k] = mu * histories[i]![k]! + (center[k]! - a[k]!)
          x[k] = center[k]! - lr * histories[i]![k]!
        }
        return x
      })
      const replies = side.round(center, messages, step)
      for (let k = 0; k < 3; k++) {
        const g = targets.reduce((s, a) => s + (big.x[k]! - a[k]!), 0) / targets.length
        big.v[k] = mu * big.v[k]! + g
        big.x[k] = big.x[k]! - lr * big.v[k]!
      }
      for (const r of replies) expect(Array.from(r.reply)).toEqual(Array.from(center))
    }
    for (let k = 0; k < 3; k++) expect(center[k]).toBeCloseTo(big.x[k]!, 4)
    expect(settings({ rule: "sync-sgd" })).toMatchObject({ period: 1, lrScaling: "linear", lrWarmup: 100 })
  })

  it("diloco: g = mean Δ_i; u ← μu + g; x̃ ← x̃ − lr(g + μu); every worker gets the new x̃; u persists", () => {
    const center = f32(10)
    const side = syncRule("diloco").center(settings({ rule: "diloco" }), 2, 1)
    let replies = side.round(center, [f32(1), f32(3)], 0)
    // g = 2, u = 2, x̃ = 10 − 0.7 × (2 + 0.9 × 2) = 7.34
    expect(center[0]).toBeCloseTo(7.34, 5)
    expect(replies.map((r) => r.reply[0])).toEqual([center[0], center[0]])
    expect(replies.map((r) => r.distance)).toEqual([1, 3])
    replies = side.round(center, [f32(2), f32(2)], 1)
    // u = 0.9 × 2 + 2 = 3.8; x̃ = 7.34 − 0.7 × (2 + 0.9 × 3.8) = 3.546
    expect(center[0]).toBeCloseTo(3.546, 4)
    const saved = side.save()!
    expect(saved.buffers["outer_momentum"]![0]).toBeCloseTo(3.8, 5)
    const again = syncRule("diloco").center(settings({ rule: "diloco" }), 2, 1)
    again.restore(saved)
    const a = f32(0)
    const b = f32(0)
    side.round(a, [f32(1)], 2)
    again.round(b, [f32(1)], 2)
    expect(a[0]).toBe(b[0])
    expect(() => again.restore({ buffers: { outer_momentum: f32(1, 2) } })).toThrow(/outer_momentum has 2 values, the net has 1/)
  })

  it("diloco with μ = 0 and outer lr 1 is plain averaging of the workers' parameters", () => {
    const center = f32(10, 0)
    const side = syncRule("diloco").center(settings({ rule: "diloco", outer_lr: 1, outer_momentum: 0 }), 2, 2)
    // Workers pulled x̃ = (10, 0) and reached (8, 2) and (12, 4): Δ = x̃ − x_i.
    side.round(center, [f32(2, -2), f32(-2, -4)], 0)
    expect([...center]).toEqual([10, 3])
  })
})

describe("async-diloco", () => {
  it("each Δ_i takes a Nesterov outer step scaled by 1 / (1 + staleness); the worker continues from x̃ after", () => {
    const center = f32(10)
    const side = asyncRule("async-diloco").center(settings({ rule: "async-diloco", outer_lr: 0.7 }), 2, 1)
    const first = exchange("async-diloco", {}, center, f32(2), 1, side)
    // g = 2 / 2 = 1, u = 1, x̃ = 10 − 0.7 × (1 + 0.9) = 8.67
    expect(center[0]).toBeCloseTo(8.67, 5)
    expect(first.reply[0]).toBe(center[0])
    expect(first.outcome).toEqual({ applied: true, alpha: 1, distance: 2 })
    exchange("async-diloco", {}, center, f32(1), 0, side)
    // g = 1, u = 1.9, x̃ = 8.67 − 0.7 × (1 + 1.71) = 6.773
    expect(center[0]).toBeCloseTo(6.773, 4)
    expect(side.save()!.buffers["outer_momentum"]![0]).toBeCloseTo(1.9, 5)
  })

  it("defaults to outer lr 0.35 (half DiLoCo's, applied per arrival) with DiLoCo's momentum 0.9", () => {
    const s = settings({ rule: "async-diloco" })
    expect([s.outerLr, s.outerMomentum]).toEqual([0.35, 0.9])
    expect(settings({ rule: "async-diloco", outer_lr: 0.7 }).outerLr).toBe(0.7)
  })

  it("a non-finite Δ leaves x̃ and the momentum untouched", () => {
    const center = f32(1)
    const side = asyncRule("async-diloco").center(settings({ rule: "async-diloco" }), 2, 1)
    expect(exchange("async-diloco", {}, center, f32(NaN), 0, side).outcome.applied).toBe(false)
    expect(center[0]).toBe(1)
    expect(side.save()!.buffers["outer_momentum"]![0]).toBe(0)
  })
})
