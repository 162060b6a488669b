import { Rng } from "@deepspark/engine"
import { type Duration, Effect, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import { Center, layerCenter } from "../center/center-service.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"
import { layerCenterClientProtocolTcp, makeCenterClient, type CenterClient } from "../transport/tcp.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"
import { boundCenterClient } from "./bounded-client.js"

/** Faults a remote worker meets, over TCP on loopback: retries, silence, stale incarnations, limits. */
const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))
const P = problem.paramCount

const withCenter = <A, E>(body: (client: CenterClient, port: number) => Effect.Effect<A, E, Center | Scope.Scope>, heartbeatTimeout: Duration.DurationInput = "60 seconds") =>
  Effect.gen(function* () {
    const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0 })
    // The protocol layer must wrap the whole use of the client (see effect-notes), not just its making.
    return yield* Effect.gen(function* () {
      return yield* body(yield* makeCenterClient, port)
    }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))
  }).pipe(
    Effect.scoped,
    Effect.provide(
      layerCenter(
        { token: "tok", settings: makeEasgdSettings({ period: 5, moving_rate: 0.5 }), workers: 2, initial: problem.init(new Rng(1)) },
        { heartbeatTimeout }
      )
    )
  )

const register = (c: CenterClient, workerId: string) => c.Register({ workerId, token: "tok", paramCount: P, partition: { index: 0, count: 2 } })
const exchange = (c: CenterClient, workerId: string, incarnation: number, seq: number, params: Float32Array) =>
  c.Exchange({ workerId, incarnation, token: "tok", seq, clock: seq * 5, params, lossSum: 1, iterations: 5, cursor: null })

describe("remote faults", () => {
  it("a retried exchange (same seq) is answered but not applied twice", async () => {
    const out = await Effect.runPromise(
      withCenter((c) =>
        Effect.gen(function* () {
          const center = yield* Center
          const reg = yield* register(c, "w")
          const x = new Float32Array(P).fill(1)
          const first = yield* exchange(c, "w", reg.incarnation, 1, x)
          const afterFirst = yield* center.params
          const retry = yield* exchange(c, "w", reg.incarnation, 1, x)
          return { first, retry, afterFirst, after: yield* center.params, exchanges: (yield* center.view).exchanges }
        })
      )
    )
    expect(out.first.duplicate).toBe(false)
    expect(out.retry.duplicate).toBe(true)
    expect(out.retry.alpha).toBe(1) // the worker takes the current x̃ as it is
    expect([...out.retry.center]).toEqual([...out.afterFirst])
    expect([...out.after]).toEqual([...out.afterFirst])
    expect(out.exchanges).toBe(1)
  })

  it("a silent worker is dropped after the heartbeat timeout and rejoins; its dead incarnation is stale", async () => {
    const out = await Effect.runPromise(
      withCenter((c) =>
        Effect.gen(function* () {
          const center = yield* Center
          const reg = yield* register(c, "w")
          yield* exchange(c, "w", reg.incarnation, 1, problem.init(new Rng(2)))
          yield* Effect.sleep("700 millis") // > 300 ms of silence
          const silent = yield* center.view
          const dropped = !silent.workers.get("w")!.connected && silent.activeWorkers === 0
          const again = yield* register(c, "w")
          const stale = yield* exchange(c, "w", reg.incarnation, 2, problem.init(new Rng(3))).pipe(Effect.flip)
          const fresh = yield* exchange(c, "w", again.incarnation, 1, problem.init(new Rng(4)))
          return { dropped, again, stale, fresh, record: (yield* center.view).workers.get("w")! }
        }), "300 millis"
      )
    )
    expect(out.dropped).toBe(true)
    expect(out.again.incarnation).toBe(2)
    expect(out.again.resumeIteration).toBe(5)
    expect(out.stale).toMatchObject({ _tag: "CenterRejected", reason: "stale" })
    expect(out.fresh.duplicate).toBe(false)
    expect(out.record).toMatchObject({ connected: true, exchanges: 2, clock: 5 })
  })

  it("the bounded client refuses an oversized exchange with a clear error and times out on a silent center", async () => {
    const out = await Effect.runPromise(
      withCenter((c, port) =>
        Effect.gen(function* () {
          const center = yield* Center
          const small = boundCenterClient(c, { workerId: "w", address: `127.0.0.1:${port}`, callTimeoutMs: 2000, maxMessageBytes: 8192 })
          const reg = yield* register(small, "w")
          const big = yield* exchange(small, "w", reg.incarnation, 1, new Float32Array(4096)).pipe(Effect.flip)
          const ok = yield* exchange(small, "w", reg.incarnation, 1, new Float32Array(P))
          // A server that accepts connections and never answers.
          const silent = yield* Effect.acquireRelease(
            Effect.promise(async () => {
              const net = await import("node:net")
              const server = net.createServer(() => {})
              await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
              return server
            }),
            (s) => Effect.sync(() => s.close())
          )
          const silentPort = (silent.address() as { port: number }).port
          const timedOut = yield* Effect.gen(function* () {
            const raw = yield* makeCenterClient
            const bounded = boundCenterClient(raw, { workerId: "w", address: `127.0.0.1:${silentPort}`, callTimeoutMs: 300, maxMessageBytes: 1 << 20 })
            return yield* register(bounded, "w").pipe(Effect.flip)
          }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port: silentPort })))
          return { big, ok, timedOut, exchanges: (yield* center.view).exchanges }
        })
      )
    )
    expect(out.big).toMatchObject({ _tag: "CenterRejected", reason: "size" })
    expect(out.big.message).toMatch(/16384 bytes exceeds the message limit of 8192 bytes/)
    expect(out.ok.duplicate).toBe(false)
    expect(out.exchanges).toBe(1)
    expect(out.timedOut.message).toMatch(/Register: no answer from the center at 127\.0\.0\.1:\d+ within 300 ms/)
  })
})
