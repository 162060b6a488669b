import { describe, expect, it } from "vitest"
import { centerAddDelta, centerElastic, distance } from "../easgd/kernels.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { CenterState, type CenterEvent } from "./center-state.js"

/** The exchange's one-pass kernels give exactly (bit for bit) what rules.ts's centerElastic and distance give. */
const random = (n: number, seed: number) => {
  let s = seed
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 8)
}

const run = (rule: string, initial: Float32Array, params: Float32Array) => {
  const state = new CenterState({ token: "t", settings: makeEasgdSettings({ rule, period: 1, ...(rule === "downpour" ? { progress_warmup: 0 } : { moving_rate: 0.3 }) }), workers: 2, initial })
  const events: CenterEvent[] = []
  state.onEvent = (e) => events.push(e)
  const reg = state.register({ workerId: "w", token: "t", paramCount: initial.length, partition: { index: 0, count: 1 } }, 0)
  const reply = state.exchange({ workerId: "w", incarnation: reg.incarnation, token: "t", seq: 1, clock: 1, params, lossSum: 1, iterations: 1, cursor: null }, 0)
  const exchange = events.find((e) => e.type === "exchange") as Extract<CenterEvent, { type: "exchange" }> | undefined
  return { state, reply, distance: exchange?.distance }
}

describe("the center's exchange arithmetic", () => {
  for (const rule of ["async-easgd", "easgd", "single"]) {
    it(`${rule}: x̃, the reply and ‖x_i − x̃‖ match centerElastic and distance exactly`, () => {
      const initial = random(10_001, 1)
      const params = random(10_001, 2)
      const { state, reply, distance: got } = run(rule, initial, params)
      const x = initial.slice()
      const expectedReply = new Float32Array(x.length)
      const rate = rule === "single" ? 1 : rule === "async-easgd" ? state.centerRate : 0.3
      centerElastic(x, params, rule === "async-easgd" ? rate : rule === "single" ? 1 : state.alpha, expectedReply)
      expect(Buffer.from(state.x.buffer).equals(Buffer.from(x.buffer))).toBe(true)
      expect(Buffer.from(reply.center.buffer).equals(Buffer.from(expectedReply.buffer))).toBe(true)
      expect(got).toBe(distance(params, expectedReply))
    })
  }

  it("downpour (no warm-up): x̃ += Δ, the reply is x̃ after, the distance reported is ‖Δ‖", () => {
    const initial = random(5000, 5)
    const delta = random(5000, 6)
    const { state, reply, distance: got } = run("downpour", initial, delta)
    const x = initial.slice()
    centerAddDelta(x, delta)
    expect([...state.x]).toEqual([...x])
    expect([...reply.center]).toEqual([...x])
    // Σ Δ² is summed in four partial sums (progressExchange): the same value up to its last bits.
    expect(got).toBeCloseTo(distance(delta, new Float32Array(delta.length)), 9)
  })

  it("a non-finite value anywhere resets the worker and leaves x̃ untouched", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const initial = random(1000, 3)
      const params = random(1000, 4)
      params[777] = bad
      const { state, reply } = run("async-easgd", initial, params)
      expect(reply.reset).toBe(true)
      expect([...state.x]).toEqual([...initial])
      expect([...reply.center]).toEqual([...initial]) // the worker restarts from x̃
    }
  })
})
