import { describe, expect, it } from "vitest"
import { makeEasgdSettings } from "../easgd/settings.js"
import { CenterRejected } from "../transport/center-rpcs.js"
import { CenterState, type ExchangeRequest } from "./center-state.js"

const make = (rule: Parameters<typeof makeEasgdSettings>[0]["rule"] = "async-easgd", extra = {}) =>
  new CenterState({
    token: "s3cret",
    settings: makeEasgdSettings({ rule: rule as string, period: 1, moving_rate: 0.5, ...extra }),
    workers: 2,
    initial: Float32Array.of(0, 0, 0)
  })

const register = (c: CenterState, id: string) => c.register({ workerId: id, token: "s3cret", paramCount: 3, partition: { index: 0, count: 2 } }, 0)

const ex = (id: string, incarnation: number, seq: number, params: number[], extra: Partial<ExchangeRequest> = {}): ExchangeRequest => ({
  workerId: id,
  incarnation,
  token: "s3cret",
  seq,
  clock: seq * 10,
  params: Float32Array.from(params),
  lossSum: 1,
  iterations: 10,
  cursor: null,
  ...extra
})

const rejection = (f: () => unknown): CenterRejected => {
  try {
    f()
  } catch (e) {
    if (e instanceof CenterRejected) return e
    throw e
  }
  throw new Error("expected a rejection")
}

describe("the center variable", () => {
  it("applies async-easgd exchanges as they arrive and replies with x̃ before the update", () => {
    const c = make()
    register(c, "w0")
    const r = c.exchange(ex("w0", 1, 1, [2, 4, 6]), 1)
    expect([...r.center]).toEqual([0, 0, 0])
    expect(r.alpha).toBe(0.5)
    expect([...c.x]).toEqual([1, 2, 3])
    expect(c.exchanges).toBe(1)
  })

  it("rejects a bad token, an unregistered worker and a wrong-length tensor, leaving x̃ unharmed", () => {
    const c = make()
    expect(rejection(() => c.register({ workerId: "w0", token: "nope", paramCount: 3, partition: { index: 0, count: 1 } }, 0)).reason).toBe("auth")
    expect(rejection(() => c.exchange(ex("ghost", 1, 1, [1, 1, 1]), 0)).reason).toBe("unknown-worker")
    register(c, "w0")
    const bad = rejection(() => c.exchange(ex("w0", 1, 1, [1, 1]), 0))
    expect(bad.reason).toBe("shape")
    expect(bad.message).toMatch(/2 values, the net has 3/)
    expect(rejection(() => c.exchange(ex("w0", 1, 1, [1, 1, 1], { token: "x" }), 0)).reason).toBe("auth")
    expect([...c.x]).toEqual([0, 0, 0])
    expect(c.exchanges).toBe(0)
  })

  it("answers a duplicate exchange without absorbing it twice", () => {
    const c = make()
    register(c, "w0")
    c.exchange(ex("w0", 1, 1, [2, 2, 2]), 0)
    const again = c.exchange(ex("w0", 1, 1, [2, 2, 2]), 0)
    expect(again.duplicate).toBe(true)
    expect([...c.x]).toEqual([1, 1, 1])
    expect(c.exchanges).toBe(1)
  })

  it("refuses a stale exchange from a previous incarnation of a restarted worker", () => {
    const c = make()
    register(c, "w0")
    const second = register(c, "w0")
    expect(second.incarnation).toBe(2)
    expect(rejection(() => c.exchange(ex("w0", 1, 5, [9, 9, 9]), 0)).reason).toBe("stale")
    expect([...c.x]).toEqual([0, 0, 0])
  })

  it("never absorbs NaN: the worker is told to reset from x̃", () => {
    const c = make()
    register(c, "w0")
    c.exchange(ex("w0", 1, 1, [2, 2, 2]), 0)
    const r = c.exchange(ex("w0", 1, 2, [NaN, 1, 1]), 0)
    expect(r.reset).toBe(true)
    expect(r.alpha).toBe(1)
    expect([...r.center]).toEqual([1, 1, 1])
    expect([...c.x]).toEqual([1, 1, 1])
    expect(c.workers.get("w0")!.resets).toBe(1)
  })

  it("remembers each worker's clock and cursor, and resumes them on re-registration", () => {
    const c = make()
    register(c, "w0")
    c.exchange(ex("w0", 1, 1, [1, 1, 1], { clock: 50, cursor: '{"pos":3200}' }), 0)
    const again = register(c, "w0")
    expect(again.resumeIteration).toBe(50)
    expect(again.resumeCursor).toBe('{"pos":3200}')
  })

  it("checkpoints and restores x̃ with its bookkeeping", () => {
    const c = make()
    register(c, "w0")
    c.exchange(ex("w0", 1, 1, [4, 4, 4], { clock: 10, cursor: "c1" }), 0)
    const saved = c.checkpointState()
    const x = c.x.slice()
    const d = make()
    d.restore(x, JSON.parse(JSON.stringify(saved)))
    expect([...d.x]).toEqual([...c.x])
    expect(d.exchanges).toBe(1)
    const r = register(d, "w0")
    expect(r.incarnation).toBe(2)
    expect(r.resumeIteration).toBe(10)
    expect(() => d.restore(new Float32Array(2), saved)).toThrow(/2 parameters/)
  })

  it("applies a sync-avg round to all members", () => {
    const c = make("sync-avg")
    register(c, "a")
    register(c, "b")
    const ra = ex("a", 1, 1, [2, 2, 2])
    const rb = ex("b", 1, 1, [4, 4, 4])
    expect(c.validateForRound(ra, 0)).toBe("join")
    const replies = c.applyRound([ra, rb])
    expect([...c.x]).toEqual([3, 3, 3])
    expect(replies.map((r) => [...r.center])).toEqual([
      [3, 3, 3],
      [3, 3, 3]
    ])
    expect(c.exchanges).toBe(2)
  })

  it("stops after the target number of exchanges", () => {
    const c = new CenterState({ token: "t", settings: makeEasgdSettings({ period: 1 }), workers: 1, initial: new Float32Array(1), maxExchanges: 2 })
    c.register({ workerId: "w", token: "t", paramCount: 1, partition: { index: 0, count: 1 } }, 0)
    const mk = (seq: number) => ({ ...ex("w", 1, seq, [1]), token: "t" })
    expect(c.exchange(mk(1), 0).stop).toBe(false)
    expect(c.exchange(mk(2), 0).stop).toBe(true)
  })

  it("a diloco checkpoint keeps the outer momentum, and a resumed center continues exactly", () => {
    const c = make("diloco")
    register(c, "a")
    register(c, "b")
    c.applyRound([ex("a", 1, 1, [1, 2, 3]), ex("b", 1, 1, [3, 2, 1])])
    const saved = JSON.parse(JSON.stringify(c.checkpointState()))
    expect(Object.keys(saved.ruleState)).toEqual(["outer_momentum"])
    const d = make("diloco")
    d.restore(c.x.slice(), saved)
    expect(d.restoredWithoutRuleState).toBe(false)
    for (const center of [c, d]) {
      register(center, "a")
      register(center, "b")
    }
    const round = (center: CenterState) => center.applyRound([ex("a", 2, 1, [1, 1, 1]), ex("b", 2, 1, [1, 1, 1])])
    round(c)
    round(d)
    expect([...d.x]).toEqual([...c.x])
    // Without the momentum (a checkpoint of another rule) the resumed center says it starts it afresh.
    const e = make("diloco")
    e.restore(c.x.slice(), { ...saved, rule: "async-easgd" })
    expect(e.restoredWithoutRuleState).toBe(true)
  })

  it("downpour: x̃ += Δ as each worker's progress arrives (the worker sends Δ, not x_i)", () => {
    const c = make("downpour", { progress_warmup: 0 })
    register(c, "a")
    register(c, "b")
    c.exchange(ex("a", 1, 1, [1, 0, 0]), 0)
    const r = c.exchange(ex("b", 1, 1, [0, 2, 0]), 0)
    expect([...c.x]).toEqual([1, 2, 0])
    expect([...r.center]).toEqual([1, 2, 0])
    expect(r.alpha).toBe(1)
  })

  it("a synchronous round member whose loss is not finite is reset, not joined", () => {
    const c = make("diloco")
    register(c, "a")
    const r = c.validateForRound(ex("a", 1, 1, [1, 1, 1], { lossSum: NaN }), 0)
    expect(r !== "join" && r.reset).toBe(true)
  })
})
