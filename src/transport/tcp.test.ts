import { Rng } from "@deepspark/engine"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Center, layerCenter } from "../center/center-service.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"
import { problemTrainer } from "../simulator/problem-trainer.js"
import { runTrainerLoop } from "../worker/trainer-loop.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "./tcp.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"

const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))

const withCenter = <A, E>(body: (port: number) => Effect.Effect<A, E, Center>) =>
  Effect.gen(function* () {
    const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0, maxFrameBytes: 1 << 20 })
    return yield* body(port)
  }).pipe(
    Effect.scoped,
    Effect.provide(
      layerCenter({
        token: "tok",
        settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }),
        workers: 2,
        initial: problem.init(new Rng(1))
      })
    )
  )

const client = (port: number) => <A, E, R>(use: (c: Effect.Effect.Success<typeof makeCenterClient>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const c = yield* makeCenterClient
    return yield* use(c)
  }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))

describe("the center over TCP on loopback", () => {
  it("two workers train the center with async EASGD", async () => {
    const result = await Effect.runPromise(
      withCenter((port) =>
        Effect.gen(function* () {
          const center = yield* Center
          const before = problem.evaluate(yield* center.params).accuracy
          const runs = yield* Effect.all(
            [0, 1].map((i) =>
              client(port)((c) =>
                Effect.scoped(
                  runTrainerLoop(c, problemTrainer(problem, i, 2, new Rng(10 + i)), {
                    workerId: `w${i}`,
                    token: "tok",
                    partition: { index: i, count: 2 },
                    period: 5,
                    maxIter: 150
                  })
                )
              )
            ),
            { concurrency: "unbounded" }
          )
          return { runs, before, after: problem.evaluate(yield* center.params).accuracy, exchanges: (yield* center.view).exchanges }
        })
      )
    )
    expect(result.runs.map((r) => r.exchanges)).toEqual([30, 30])
    expect(result.exchanges).toBe(60)
    expect(result.before).toBeLessThan(0.5)
    expect(result.after).toBeGreaterThan(0.8)
  })

  it("rejects a bad token, a wrong-length tensor and an oversized message, and the center is unharmed", async () => {
    const out = await Effect.runPromise(
      withCenter((port) =>
        Effect.gen(function* () {
          const center = yield* Center
          const x0 = yield* center.params
          const badToken = yield* client(port)((c) =>
            c.Register({ workerId: "w", token: "wrong", paramCount: problem.paramCount, partition: { index: 0, count: 1 } }).pipe(Effect.flip)
          )
          const wrongLength = yield* client(port)((c) =>
            Effect.gen(function* () {
              const reg = yield* c.Register({ workerId: "w", token: "tok", paramCount: problem.paramCount, partition: { index: 0, count: 1 } })
              return yield* c
                .Exchange({
                  workerId: "w",
                  incarnation: reg.incarnation,
                  token: "tok",
                  seq: 1,
                  clock: 1,
                  params: new Float32Array(3),
                  lossSum: 0,
                  iterations: 1,
                  cursor: null
                })
                .pipe(Effect.flip)
            })
          )
          const oversized = yield* client(port)((c) =>
            c
              .Exchange({
                workerId: "w",
                incarnation: 1,
                token: "tok",
                seq: 2,
                clock: 1,
                params: new Float32Array(1 << 19), // 2 MiB > the 1 MiB limit
                lossSum: 0,
                iterations: 1,
                cursor: null
              })
              .pipe(Effect.timeout("3 seconds"), Effect.flip)
          )
          // The center still serves well-formed requests on new connections.
          const again = yield* client(port)((c) =>
            c.Register({ workerId: "w2", token: "tok", paramCount: problem.paramCount, partition: { index: 0, count: 1 } })
          )
          const x1 = yield* center.params
          return { badToken, wrongLength, oversized, again, unchanged: [...x1].every((v, i) => v === x0[i]), exchanges: (yield* center.view).exchanges }
        })
      )
    )
    expect(out.badToken._tag).toBe("CenterRejected")
    expect((out.badToken as any).reason).toBe("auth")
    expect((out.wrongLength as any).reason).toBe("shape")
    expect((out.wrongLength as any).message).toMatch(/3 values/)
    expect(out.oversized).toBeDefined()
    expect(out.again.incarnation).toBe(1)
    expect(out.unchanged).toBe(true)
    expect(out.exchanges).toBe(0)
  })
})
