import { Deferred, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeEasgdSettings } from "../easgd/settings.js"
import { makeCenter } from "./center-service.js"

describe("center tests that come due while one runs", () => {
  it("are queued and run in exchange order, each on x̃ as it was when it came due (none skipped)", async () => {
    const tested: Array<{ exchanges: number; x0: number }> = []
    const program = Effect.gen(function* () {
      const release = yield* Deferred.make<void>()
      const center = yield* makeCenter(
        { token: "t", settings: makeEasgdSettings({ period: 1, moving_rate: 0.5 }), workers: 1, initial: new Float32Array([0, 0]) },
        {
          testInterval: 1,
          // The first test holds until every exchange is in: the others come due while it runs.
          evaluate: (x, exchanges) =>
            (exchanges === 1 ? Deferred.await(release) : Effect.void).pipe(
              Effect.zipRight(Effect.sync(() => tested.push({ exchanges, x0: x[0]! }))),
              Effect.as({ outputs: [] })
            )
        }
      )
      const { incarnation } = yield* center.register({ workerId: "w", token: "t", paramCount: 2, partition: { index: 0, count: 1 } })
      for (let seq = 1; seq <= 4; seq++)
        yield* center.exchange({
          workerId: "w",
          incarnation,
          token: "t",
          seq,
          clock: seq,
          params: new Float32Array([8, 8]),
          lossSum: 1,
          iterations: 1,
          cursor: null
        })
      yield* Effect.yieldNow()
      expect(tested).toEqual([])
      yield* Deferred.succeed(release, undefined)
      yield* center.quiesce
    })
    await Effect.runPromise(Effect.scoped(program))
    expect(tested.map((t) => t.exchanges)).toEqual([1, 2, 3, 4])
    // x̃ moves towards 8 with every exchange: each test saw its own copy.
    const xs = tested.map((t) => t.x0)
    expect(new Set(xs).size).toBe(4)
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThan(xs[i - 1]!)
  })

  it("synchronous rounds test when the count passes a multiple of the interval: a round closed before every worker registered puts it off the members' multiple", async () => {
    const tested: number[] = []
    const program = Effect.gen(function* () {
      const center = yield* makeCenter(
        { token: "t", settings: makeEasgdSettings({ rule: "sync-avg", period: 1 }), workers: 2, initial: new Float32Array([0, 0]) },
        { testInterval: 4, evaluate: (_x, exchanges) => Effect.sync(() => tested.push(exchanges)).pipe(Effect.as({ outputs: [] })) }
      )
      const join = (workerId: string) => center.register({ workerId, token: "t", paramCount: 2, partition: { index: 0, count: 2 } })
      const send = (workerId: string, incarnation: number, seq: number) =>
        center.exchange({ workerId, token: "t", incarnation, seq, clock: seq, params: new Float32Array([1, 1]), lossSum: 1, iterations: 1, cursor: null })
      // worker a alone: a round of one (exchange 1); then b joins and every round adds 2 (3, 5, 7, 9, …).
      const a = yield* join("a")
      yield* send("a", a.incarnation, 1)
      const b = yield* join("b")
      for (let seq = 2; seq <= 6; seq++) yield* Effect.all([send("a", a.incarnation, seq), send("b", b.incarnation, seq - 1)], { concurrency: 2 })
      yield* center.quiesce
      expect((yield* center.view).exchanges).toBe(11)
    })
    await Effect.runPromise(Effect.scoped(program))
    // Counts 1, 3, 5, 7, 9, 11: past 4 at 5, past 8 at 9 (never on a multiple of 4).
    expect(tested).toEqual([5, 9])
  })
})
