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
})
