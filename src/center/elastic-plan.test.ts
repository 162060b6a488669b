import { Effect, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { makeEasgdSettings } from "../easgd/settings.js"
import { CenterRejected } from "../transport/center-rpcs.js"
import { Center, layerCenter } from "./center-service.js"
import { CenterState, type CenterCheckpointState } from "./center-state.js"
import { ElasticPlan, type Assignment, type ReadSpan } from "./elastic-plan.js"

/** Whether the spans of `epoch` tile [0, n) exactly (no gap, no record twice). */
const tiles = (spans: ReadonlyArray<ReadSpan>, epoch: number, n: number): { gaps: number; overlap: number } => {
  const s = spans.filter((x) => x.epoch === epoch).sort((a, b) => a.from - b.from)
  let at = 0
  let gaps = 0
  let overlap = 0
  for (const x of s) {
    if (x.from > at) gaps += x.from - at
    if (x.from < at) overlap += Math.min(at, x.to) - x.from
    at = Math.max(at, x.to)
  }
  return { gaps: gaps + Math.max(0, n - at), overlap }
}

describe("the elastic data plan", () => {
  it("epoch 0 is the static range partitioning; a joiner splits the rest of a donor at its exact cursor", () => {
    const plan = new ElasticPlan(2)
    plan.setRecords("a", 100)
    const a = plan.take("a", { pieces: 2, startEpoch: true, prefer: { index: 0, count: 2 } })!
    const b = plan.take("b", { pieces: 2, startEpoch: true, prefer: { index: 1, count: 2 } })!
    expect([a.from, a.to, b.from, b.to]).toEqual([0, 50, 50, 100])
    expect(plan.progress("a", a.id, 10, 2)).toBeUndefined()
    // No open range: a joiner may not start the next epoch while ranges are held.
    expect(plan.take("c", { pieces: 3, startEpoch: false })).toBeUndefined()
    const s = plan.split("a", "c")!
    expect([s.donor.from, s.donor.to, s.joiner.from, s.joiner.to]).toEqual([10, 30, 30, 50])
    // b reads 20 records a period: its 30 left are not two periods' worth, so it is not split.
    expect(plan.progress("b", b.id, 20, 3)).toBeUndefined()
    expect(plan.split("b", "d")).toBeUndefined()
  })

  it("a leaver's range, from its cursor, goes to the next worker that needs records; epochs tile exactly", () => {
    const plan = new ElasticPlan(2)
    const spans: ReadSpan[] = []
    plan.onRead = (s) => spans.push(s)
    plan.setRecords("a", 100)
    let a = plan.take("a", { pieces: 2, startEpoch: true })!
    const b = plan.take("b", { pieces: 2, startEpoch: true })!
    expect(plan.progress("b", b.id, 20, 2)).toBeUndefined()
    plan.release("b") // b leaves having read 20 of its 50
    expect(plan.openRanges()).toEqual([{ epoch: 0, from: 70, to: 100 }])
    // a reads its range, then b's rest, then epoch 1 alone.
    a = plan.progress("a", a.id, 50, 1)!
    expect(a).toMatchObject({ epoch: 0, from: 70, to: 100 })
    a = plan.progress("a", a.id, 30, 1)!
    expect(a).toMatchObject({ epoch: 1, from: 0, to: 100 })
    expect(tiles(spans, 0, 100)).toEqual({ gaps: 0, overlap: 0 })
  })

  it("reads past a range's end before the next exchange are the only repeats, and are counted", () => {
    const plan = new ElasticPlan(1)
    plan.setRecords("a", 10)
    const a = plan.take("a", { pieces: 1, startEpoch: true })!
    const next = plan.progress("a", a.id, 14, 1)!
    expect(plan.repeated).toBe(4)
    expect(next).toMatchObject({ epoch: 1, from: 0, to: 10 })
  })

  it("random joins, leaves and progress: every epoch that was read whole is read exactly once", () => {
    let seed = 7
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
    const plan = new ElasticPlan(3)
    const spans: ReadSpan[] = []
    plan.onRead = (s) => spans.push(s)
    const R = 997
    plan.setRecords("w0", R)
    const held = new Map<string, { a: Assignment; read: number }>()
    let nextWorker = 0
    const join = () => {
      const id = `w${nextWorker++}`
      const a = plan.take(id, { pieces: held.size + 1, startEpoch: true })
      if (a) held.set(id, { a, read: 0 })
    }
    for (let i = 0; i < 3; i++) join()
    for (let step = 0; step < 3000; step++) {
      const ids = [...held.keys()]
      const r = rand(100)
      if (r < 3 && ids.length < 6) {
        // A joiner: an open range, else half of a worker's rest at that worker's exchange.
        const id = `w${nextWorker++}`
        const open = plan.take(id, { pieces: held.size + 1, startEpoch: false })
        if (open) held.set(id, { a: open, read: 0 })
        else {
          const donor = ids[rand(ids.length)]!
          const d = held.get(donor)!
          plan.progress(donor, d.a.id, d.read, held.size)
          const s = plan.split(donor, id)
          if (s) {
            held.set(donor, { a: s.donor, read: 0 })
            held.set(id, { a: s.joiner, read: 0 })
          }
        }
      } else if (r < 6 && ids.length > 1) {
        const id = ids[rand(ids.length)]!
        plan.release(id)
        held.delete(id)
      } else if (ids.length > 0) {
        const id = ids[rand(ids.length)]!
        const h = held.get(id)!
        h.read += 1 + rand(12)
        const next = plan.progress(id, h.a.id, h.read, held.size)
        if (next) held.set(id, { a: next, read: 0 })
      }
    }
    const epochs = Math.max(...spans.map((s) => s.epoch))
    expect(epochs).toBeGreaterThan(3)
    for (let e = 0; e < epochs - 1; e++) {
      const t = tiles(spans, e, R)
      // An epoch can still have open ranges only while later ones run; every finished one tiles.
      if (t.gaps === 0) expect(t.overlap).toBe(0)
      else expect(plan.openRanges().some((o) => o.epoch === e) || [...held.values()].some((h) => h.a.epoch === e)).toBe(true)
    }
    expect(tiles(spans, 0, R)).toEqual({ gaps: 0, overlap: 0 })
  })
})

describe("an elastic center", () => {
  const make = () =>
    new CenterState({ token: "t", settings: makeEasgdSettings({ period: 1, moving_rate: 0.5, decay_rate: 0.5, decay_step: 2 }), workers: 2, initial: Float32Array.of(0, 0), elastic: true })
  const reg = (c: CenterState, id: string, index: number, extra: { join?: boolean; records?: number } = {}) =>
    c.register({ workerId: id, token: "t", paramCount: 2, partition: { index, count: 2 }, records: 10, ...extra }, 0)
  // What the service does at an exchange: apply it, then record the worker's progress through its range.
  const ex = (c: CenterState, id: string, seq: number, range: { id: number; read: number }) => {
    const req = { workerId: id, incarnation: 1, token: "t", seq, clock: seq, params: Float32Array.of(1, 1), lossSum: 1, iterations: 1, cursor: null, range }
    c.exchange(req, 0)
    return c.elasticProgress(req, 0)
  }

  it("refuses a worker without a record count, or one whose training set differs; a plain center refuses --join", () => {
    const c = make()
    const no = (() => {
      try {
        c.register({ workerId: "a", token: "t", paramCount: 2, partition: { index: 0, count: 2 } }, 0)
      } catch (e) {
        return e
      }
    })() as CenterRejected
    expect(no.message).toMatch(/needs the worker's training record count/)
    reg(c, "a", 0)
    expect(() => reg(c, "b", 1, { records: 11 })).toThrow(/reads 11 training records, the run's other workers read 10/)
    const plain = new CenterState({ token: "t", settings: makeEasgdSettings({}), workers: 1, initial: Float32Array.of(0, 0) })
    expect(() => plain.register({ workerId: "a", token: "t", paramCount: 2, partition: { index: 0, count: 1 }, join: true }, 0)).toThrow(/not elastic/)
  })

  it("the rate schedule counts per-worker progress: with one of two workers left, α decays after as many of its iterations", () => {
    const c = make()
    reg(c, "a", 0)
    reg(c, "b", 1)
    // decay_step 2 iterations, τ 1, N 2 → α halves every 4 planned exchanges (2 per worker).
    const a = c.plan!.holding("a")!
    ex(c, "a", 1, { id: a.id, read: 1 })
    ex(c, "a", 2, { id: a.id, read: 2 })
    expect(c.alpha).toBe(0.5) // 2 exchanges of 2 workers' worth
    c.stopWorker({ workerId: "b", incarnation: 1, token: "t" })
    ex(c, "a", 3, { id: a.id, read: 3 })
    ex(c, "a", 4, { id: a.id, read: 4 })
    // a alone: each of its exchanges is a round's worth (2 planned exchanges): 2 + 4 = 6 ≥ 4.
    expect(c.scheduleExchanges).toBe(6)
    expect(c.alpha).toBe(0.25)
  })

  it("a checkpoint keeps the plan: after --resume each worker gets its range back from its cursor", () => {
    const c = make()
    reg(c, "a", 0)
    reg(c, "b", 1)
    const a = c.plan!.holding("a")!
    ex(c, "a", 1, { id: a.id, read: 3 })
    const saved = JSON.parse(JSON.stringify(c.checkpointState())) as CenterCheckpointState
    expect(saved.elastic!.plan.open).toEqual([
      { epoch: 0, from: 3, to: 5, previousOwner: "a" },
      { epoch: 0, from: 5, to: 10, previousOwner: "b" }
    ])
    const resumed = make()
    resumed.restore(c.x.slice(), saved)
    expect(resumed.scheduleClock).toBe(c.scheduleClock)
    // b comes back first: it gets its own range, not a's.
    expect(reg(resumed, "b", 1).assignment).toMatchObject({ epoch: 0, from: 5, to: 10 })
    expect(reg(resumed, "a", 0).assignment).toMatchObject({ epoch: 0, from: 3, to: 5 })
  })
})

describe("an elastic center service", () => {
  const run = <A>(body: Effect.Effect<A, unknown, Center>) =>
    Effect.runPromise(
      body.pipe(
        Effect.scoped,
        Effect.provide(
          layerCenter(
            { token: "t", settings: makeEasgdSettings({ rule: "downpour", period: 1 }), workers: 2, initial: Float32Array.of(0, 0), elastic: true },
            { heartbeatTimeout: "200 millis" }
          )
        )
      )
    )
  const registration = (id: string, extra: { join?: boolean; index?: number } = {}) => ({
    workerId: id,
    token: "t",
    paramCount: 2,
    partition: { index: extra.index ?? 0, count: 2 },
    records: 100,
    ...(extra.join ? { join: true } : {})
  })
  const exchange = (id: string, incarnation: number, seq: number, range: { id: number; read: number }) => ({
    workerId: id,
    incarnation,
    token: "t",
    seq,
    clock: seq,
    params: Float32Array.of(0.1, 0.1),
    lossSum: 1,
    iterations: 1,
    cursor: null,
    range
  })

  it("a joiner's Register waits for a running worker's exchange, which cuts that worker's rest in two", () =>
    run(
      Effect.gen(function* () {
        const center = yield* Center
        const w0 = yield* center.register(registration("w0"))
        yield* center.register(registration("w1", { index: 1 }))
        expect(w0.assignment).toMatchObject({ epoch: 0, from: 0, to: 50 })
        const joiner = yield* Effect.fork(center.register(registration("w2", { join: true })))
        yield* Effect.sleep("50 millis")
        expect(joiner.unsafePoll()).toBeNull() // still waiting: every range is held
        const reply = yield* center.exchange(exchange("w0", 1, 1, { id: w0.assignment!.id, read: 10 }))
        expect(reply.assignment).toMatchObject({ epoch: 0, from: 10, to: 30 })
        const w2 = yield* Fiber.join(joiner)
        expect(w2.assignment).toMatchObject({ epoch: 0, from: 30, to: 50 })
      })
    ))

  it("a worker dropped after the heartbeat timeout leaves its rest to the next worker that needs records", () =>
    run(
      Effect.gen(function* () {
        const center = yield* Center
        const w0 = yield* center.register(registration("w0"))
        const w1 = yield* center.register(registration("w1", { index: 1 }))
        yield* center.exchange(exchange("w1", 1, 1, { id: w1.assignment!.id, read: 20 }))
        // w1 goes silent; w0 keeps exchanging (its heartbeats) until w1 is dropped.
        for (let i = 0; i < 8; i++) {
          yield* Effect.sleep("60 millis")
          yield* center.heartbeat({ workerId: "w0", incarnation: 1, token: "t", clock: 0 })
        }
        expect((yield* center.view).workers.get("w1")!.connected).toBe(false)
        const reply = yield* center.exchange(exchange("w0", 1, 1, { id: w0.assignment!.id, read: 50 }))
        expect(reply.assignment).toMatchObject({ epoch: 0, from: 70, to: 100 })
      })
    ))
})
