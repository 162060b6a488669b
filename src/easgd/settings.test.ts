import { describe, expect, it } from "vitest"
import { defaultRuleFor, describeRuleSettings, EasgdSettingsError, lrScaleAt, makeEasgdSettings, rateSchedule } from "./settings.js"

describe("settings and the rate schedule", () => {
  it("uses DeepSpark's defaults and names", () => {
    const s = makeEasgdSettings({ rule: "async-easgd", period: 10, moving_rate: 0.2 })
    expect(s.rule).toBe("async-easgd")
    expect(s.period).toBe(10)
    expect(s.movingRate).toBe(0.2)
    // DeepSpark's own example settings for its rule.
    const deepspark = makeEasgdSettings({ rule: "async-easgd" })
    expect([deepspark.period, deepspark.movingRate]).toEqual([50, 0.1])
  })

  it("defaults to downpour with its own period 5, which a given period overrides; an elastic setting alone means DeepSpark's async EASGD", () => {
    const s = makeEasgdSettings({})
    expect([s.rule, s.period, s.progressWarmup, s.progressGain]).toEqual(["downpour", 5, 300, 2])
    expect(makeEasgdSettings({ period: 20 })).toMatchObject({ rule: "downpour", period: 20 })
    expect(makeEasgdSettings({ moving_rate: 0.2 })).toMatchObject({ rule: "async-easgd", period: 50, movingRate: 0.2 })
    expect(makeEasgdSettings({ decay_step: 100 }).rule).toBe("async-easgd")
    expect(makeEasgdSettings({ rule: "async-easgd" })).toMatchObject({ period: 50, movingRate: 0.1 })
    expect(makeEasgdSettings({ rule: "downpour" }).period).toBe(5)
    expect(makeEasgdSettings({ rule: "downpour", period: 20 }).period).toBe(20)
  })

  it("from 4 workers a run that names no rule gets sync-sgd: τ 1, lr × N warmed up over 100 iterations; a named rule or an elastic setting still wins", () => {
    expect([1, 2, 3, 4, 8, 32, undefined].map(defaultRuleFor)).toEqual(["downpour", "downpour", "downpour", "sync-sgd", "sync-sgd", "sync-sgd", "downpour"])
    expect(makeEasgdSettings({}, { workers: 2 })).toMatchObject({ rule: "downpour", period: 5, lrScaling: "none" })
    expect(makeEasgdSettings({}, { workers: 8 })).toMatchObject({ rule: "sync-sgd", period: 1, lrScaling: "linear", lrWarmup: 100 })
    expect(makeEasgdSettings({ lr_warmup: 50 }, { workers: 4 })).toMatchObject({ rule: "sync-sgd", lrWarmup: 50 })
    expect(makeEasgdSettings({ rule: "downpour" }, { workers: 8 }).rule).toBe("downpour")
    // What a log says of them: the period, the rule's own settings, the lr scaling where it is on.
    expect(describeRuleSettings(makeEasgdSettings({}, { workers: 8 }))).toBe("period 1, lr_scaling linear, lr_warmup 100")
    expect(describeRuleSettings(makeEasgdSettings({ rule: "diloco" }))).toBe("period 50, outer_lr 0.7, outer_momentum 0.9")
    expect(makeEasgdSettings({ moving_rate: 0.2 }, { workers: 8 }).rule).toBe("async-easgd")
    // Named, sync-sgd has the same defaults whatever the workers.
    expect(makeEasgdSettings({ rule: "sync-sgd" })).toMatchObject({ period: 1, lrScaling: "linear", lrWarmup: 100 })
    expect(makeEasgdSettings({ rule: "sync-sgd", lr_scaling: "none", lr_warmup: 0 }).lrScaling).toBe("none")
  })

  it("rejects unknown settings and bad values with the field name", () => {
    expect(() => makeEasgdSettings({ perod: 10 })).toThrow(EasgdSettingsError)
    expect(() => makeEasgdSettings({ perod: 10 })).toThrow(/perod/)
    expect(() => makeEasgdSettings({ period: 0 })).toThrow(/period/)
    expect(() => makeEasgdSettings({ moving_rate: 1.5 })).toThrow(/moving_rate/)
    expect(() => makeEasgdSettings({ rule: "gossip" })).toThrow(/gossip/)
  })

  it("decays α every decay_step·N/period exchanges down to the limit", () => {
    const s = makeEasgdSettings({ period: 10, moving_rate: 0.4, decay_rate: 0.5, decay_step: 50, decay_limit: 0.1 })
    const sched = rateSchedule(s, 2) // every 50·2/10 = 10 exchanges
    expect(sched.alpha(0)).toBe(0.4)
    expect(sched.alpha(9)).toBe(0.4)
    expect(sched.alpha(10)).toBe(0.2)
    expect(sched.alpha(20)).toBe(0.1)
    expect(sched.alpha(1000)).toBe(0.1)
  })

  it("α_s = moving_rate × server_factor, with its own decay", () => {
    const s = makeEasgdSettings({
      period: 10,
      moving_rate: 0.1,
      server_factor: 4,
      factor_decay_rate: 0.5,
      factor_decay_step: 10,
      factor_decay_limit: 1
    })
    const sched = rateSchedule(s, 1) // every 1 exchange
    expect(sched.centerRate(0)).toBeCloseTo(0.4)
    expect(sched.centerRate(1)).toBeCloseTo(0.2)
    expect(sched.centerRate(5)).toBeCloseTo(0.1)
  })
})

describe("the settings of the newer rules", () => {
  it("DiLoCo's outer lr and momentum default to 0.7 and 0.9; staleness awareness and lr scaling are off", () => {
    const s = makeEasgdSettings({ rule: "diloco" })
    expect([s.outerLr, s.outerMomentum, s.stalenessAware, s.lrScaling, s.lrWarmup]).toEqual([0.7, 0.9, false, "none", 0])
  })

  it("takes them as flags spell them and as the settings file spells them", () => {
    const s = makeEasgdSettings({ "outer-lr": "0.5", outer_momentum: 0.8, "staleness-aware": true, lr_scaling: "linear", "lr-warmup": 200 })
    expect([s.outerLr, s.outerMomentum, s.stalenessAware, s.lrScaling, s.lrWarmup]).toEqual([0.5, 0.8, true, "linear", 200])
  })

  it("async-diloco's outer momentum is 0.9 up to 3 workers and 0.5 from 4; a given value wins, and without a worker count it is 0.9", () => {
    const momentum = (workers: number | undefined, values: Record<string, string | number> = {}) =>
      makeEasgdSettings({ rule: "async-diloco", ...values }, workers === undefined ? {} : { workers }).outerMomentum
    expect([1, 2, 3, 4, 8, 16].map((n) => momentum(n))).toEqual([0.9, 0.9, 0.9, 0.5, 0.5, 0.5])
    expect(momentum(undefined)).toBe(0.9)
    expect(momentum(8, { outer_momentum: 0.9 })).toBe(0.9)
    expect(momentum(2, { "outer-momentum": "0.3" })).toBe(0.3)
    // Another rule's momentum does not depend on the workers.
    expect(makeEasgdSettings({ rule: "diloco" }, { workers: 8 }).outerMomentum).toBe(0.9)
  })

  it("rejects bad values naming the setting", () => {
    expect(() => makeEasgdSettings({ outer_lr: 0 })).toThrow(/outer_lr: must be > 0/)
    expect(() => makeEasgdSettings({ outer_momentum: 1 })).toThrow(/outer_momentum: must be in \[0, 1\)/)
    expect(() => makeEasgdSettings({ staleness_aware: "maybe" })).toThrow(/staleness_aware: expected true or false/)
    expect(() => makeEasgdSettings({ lr_scaling: "sqrt" })).toThrow(/lr_scaling: must be "none" or "linear"/)
    expect(() => makeEasgdSettings({ lr_warmup: 1.5, lr_scaling: "linear" })).toThrow(/lr_warmup: must be an integer/)
    expect(() => makeEasgdSettings({ lr_warmup: 100 })).toThrow(/lr_warmup: .*lr_scaling "linear"/)
    expect(() => makeEasgdSettings({ rule: "gossip" })).toThrow(/known: downpour, async-easgd, .*diloco, async-diloco/)
  })

  it("downpour's progress_warmup and progress_gain: flags, settings-file names, rule defaults, validation", () => {
    const d = makeEasgdSettings({ rule: "downpour" })
    expect([d.period, d.progressWarmup, d.progressGain]).toEqual([5, 300, 2])
    const s = makeEasgdSettings({ rule: "downpour", "progress-warmup": 0, progress_gain: 3 })
    expect([s.progressWarmup, s.progressGain]).toEqual([0, 3])
    expect(makeEasgdSettings({ rule: "async-easgd" }).progressGain).toBe(0)
    expect(() => makeEasgdSettings({ progress_gain: 0.5 })).toThrow(/progress_gain: must be ≥ 1/)
    expect(() => makeEasgdSettings({ progress_warmup: -1 })).toThrow(/progress_warmup: must be an integer ≥ 0/)
  })

  it("linear lr scaling: × N after the warm-up, ramped linearly from × 1 (Goyal et al.)", () => {
    const s = makeEasgdSettings({ lr_scaling: "linear", lr_warmup: 100 })
    expect(lrScaleAt(s, 4, 0)).toBe(1)
    expect(lrScaleAt(s, 4, 50)).toBe(2.5)
    expect(lrScaleAt(s, 4, 100)).toBe(4)
    expect(lrScaleAt(s, 4, 5000)).toBe(4)
    expect(lrScaleAt(s, 1, 5000)).toBe(1)
    expect(lrScaleAt(makeEasgdSettings({}), 4, 5000)).toBe(1)
    expect(lrScaleAt(makeEasgdSettings({ lr_scaling: "linear" }), 4, 0)).toBe(4)
  })
})
