import { Context, Deferred, Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { forLog } from "../transport/bounded-string.js"
import { centerRpcHandlers, type CenterEndpoint } from "../transport/center-handlers.js"
import { CenterRejected } from "../transport/center-rpcs.js"
import {
  CenterState,
  plannedWorkersFinished,
  type CenterCheckpointState,
  type CenterConfig,
  type CenterEvent,
  type ExchangeReply,
  type ExchangeRequest,
  type RegisterReply,
  type RegisterRequest,
  type WorkerRecord
} from "./center-state.js"
import type { Assignment } from "./elastic-plan.js"

/**
 * The center variable as an actor: the CenterState (x̃ and its bookkeeping) owned by one Effect
 * service. Asynchronous rules apply each exchange the moment it is handled — handlers run on the
 * center's thread one at a time and never wait for another worker. Synchronous rules gather rounds.
 * Tests of x̃ and checkpoints run in forked fibers on copies, so they never hold up an exchange.
 */

export interface CenterEvaluation {
  /** Caffe's test outputs, in output order: name → mean value. */
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly value: number; readonly lossWeight?: number }>
}

export interface CenterOptions {
  /** Test x̃ every this many exchanges (0 = never); DeepSpark's `test_interval` in exchanges. */
  readonly testInterval?: number
  readonly evaluate?: (x: Float32Array, exchanges: number) => Effect.Effect<CenterEvaluation, unknown>
  /** Checkpoint every this many exchanges (0 = never). */
  readonly checkpointEvery?: number
  readonly writeCheckpoint?: (x: Float32Array, state: CenterCheckpointState) => Effect.Effect<string, unknown>
  /** A worker not heard from for this long is dropped (default 60 s). */
  readonly heartbeatTimeout?: Duration.DurationInput
  readonly onEvent?: (e: CenterEvent) => void
  /** A worker dropped after the heartbeat timeout. */
  readonly onWorkerDropped?: (workerId: string, reason: string) => void
  /** A worker that stopped (finished its iterations, or was told to stop). */
  readonly onWorkerStopped?: (workerId: string, reason: string) => void
  readonly log?: (line: string) => void
  /** The center has diverged (its workers cannot train from x̃); the run is being stopped. */
  readonly onDiverged?: (reason: string, exchanges: number) => void
  /** Test results as they arrive (for plots and the event log). */
  readonly onEvaluation?: (exchanges: number, result: CenterEvaluation) => void
}

/** The center's state as it is now: copies, never the actor's own objects. */
export interface CenterView {
  readonly exchanges: number
  /** x̃'s version (bumped by every applied exchange or round). */
  readonly version: number
  /** Every worker the center knows (copies of its records), by id. */
  readonly workers: ReadonlyMap<string, Readonly<WorkerRecord>>
  /** How many of them are connected and not stopped. */
  readonly activeWorkers: number
}

/**
 * The Center service: the only way in to the actor's state. What it owns (x̃, the worker records, the
 * rule's state) is read through copies (`view`, `params`, `checkpointData`) and changed only by the
 * messages below and `restore`.
 */
export interface CenterApi {
  /** The token workers authenticate with (a transport's admission needs it). */
  readonly token: string
  /** The update rule the center applies. */
  readonly ruleName: string
  readonly view: Effect.Effect<CenterView>
  /** A copy of x̃ as it is now. */
  readonly params: Effect.Effect<Float32Array>
  /** A copy of x̃ and of what a checkpoint keeps beside it, taken together. */
  readonly checkpointData: Effect.Effect<{ readonly x: Float32Array; readonly state: CenterCheckpointState }>
  /** As many workers as planned have trained, and every worker that trained has stopped. */
  readonly plannedWorkersFinished: (planned: number) => Effect.Effect<boolean>
  /** x̃ and the bookkeeping from a checkpoint (--resume); says whether the rule's own state was in it. */
  readonly restore: (x: Float32Array, state: CenterCheckpointState) => Effect.Effect<{ readonly ruleStateRestored: boolean }>
  /** On an elastic center a joiner's Register waits until it has records to read (a split or an open range). */
  readonly register: (p: RegisterRequest) => Effect.Effect<RegisterReply, CenterRejected>
  /** `replyTensor`: where the reply's x̃ goes (a transport's pooled buffer; a fresh array by default). */
  readonly exchange: (p: ExchangeRequest, replyTensor?: (n: number) => Float32Array) => Effect.Effect<ExchangeReply, CenterRejected>
  readonly report: (p: Parameters<CenterState["report"]>[0]) => Effect.Effect<void, CenterRejected>
  readonly heartbeat: (p: Parameters<CenterState["heartbeat"]>[0]) => Effect.Effect<{ stop: boolean }, CenterRejected>
  readonly stopWorker: (p: {
    workerId: string
    incarnation: number
    token: string
    reason: string
    leaving?: boolean | undefined
  }) => Effect.Effect<void, CenterRejected>
  readonly snapshot: (token: string) => Effect.Effect<{ caffemodel: string; state: string }, CenterRejected>
  /** Tests x̃ now (waits for the result). */
  readonly testNow: Effect.Effect<CenterEvaluation | undefined>
  /** Writes a checkpoint now (waits for it). */
  readonly checkpointNow: Effect.Effect<string | undefined>
  /** Asks every worker to stop at its next exchange or heartbeat. */
  readonly requestStop: Effect.Effect<void>
  /** Completes when a stop was requested or the exchange target was reached. */
  readonly stopped: Effect.Effect<void>
  /** Waits until every background test and checkpoint has finished. */
  readonly quiesce: Effect.Effect<void>
}

export class Center extends Context.Tag("deepspark/Center")<Center, CenterApi>() {}

const catchDefects = <A>(f: () => A): Effect.Effect<A, CenterRejected> =>
  Effect.try({
    try: f,
    catch: (e) => (e instanceof CenterRejected ? e : new CenterRejected({ reason: "bad-request", message: String(e) }))
  })

export const makeCenter = (config: CenterConfig, options: CenterOptions = {}) =>
  Effect.gen(function* () {
    const state = new CenterState(config)
    const log = options.log ?? (() => {})
    state.onEvent = options.onEvent ?? (() => {})
    const stopped = yield* Deferred.make<void>()
    const now = () => Date.now()
    const testSem = yield* Effect.makeSemaphore(1)
    const ckptSem = yield* Effect.makeSemaphore(1)
    // Tests that come due while one runs wait their turn, in exchange order (each on its own copy of
    // x̃): a chain of forked tests, each joining the one before it.
    const lastQueuedTest = yield* Ref.make<Fiber.Fiber<unknown> | undefined>(undefined)

    const runTest = (x: Float32Array, exchanges: number) =>
      options.evaluate
        ? testSem.withPermits(1)(
            options.evaluate(x, exchanges).pipe(
              // The evaluator logs Caffe's test lines itself (it runs Caffe's Test).
              Effect.tap((r) => Effect.sync(() => options.onEvaluation?.(exchanges, r))),
              Effect.asSome,
              Effect.catchAllCause((cause) => Effect.logError("center test failed", cause).pipe(Effect.as(undefinedOption)))
            )
          )
        : Effect.succeed(undefinedOption)

    const runCheckpoint = (x: Float32Array, s: CenterCheckpointState) =>
      options.writeCheckpoint
        ? ckptSem.withPermits(1)(
            options.writeCheckpoint(x, s).pipe(
              Effect.asSome,
              Effect.catchAllCause((cause) => Effect.logError("center checkpoint failed", cause).pipe(Effect.as(undefinedOption)))
            )
          )
        : Effect.succeed(undefinedOption)

    /**
     * Every worker reset from x̃ again and again, with nothing applied in between: none can train a
     * single period from x̃, which has blown up (its values may all be finite — Caffe's SoftmaxWithLoss
     * clamps the test loss — so a test need not show it). The center has diverged: say so and stop.
     */
    let resetsSinceApplied = 0
    const afterReset = Effect.gen(function* () {
      resetsSinceApplied++
      const limit = Math.max(3, 3 * state.activeWorkers().length)
      if (resetsSinceApplied !== limit) return
      options.onDiverged?.(`${resetsSinceApplied} resets from x̃ in a row with no exchange applied: no worker can train from the center`, state.exchanges)
      yield* api.requestStop
    })

    const queueTest = (x: Float32Array, exchanges: number) =>
      Effect.gen(function* () {
        const previous = yield* Ref.get(lastQueuedTest)
        const fiber = yield* Effect.forkDaemon((previous ? Fiber.await(previous) : Effect.void).pipe(Effect.zipRight(runTest(x, exchanges))))
        yield* Ref.set(lastQueuedTest, fiber)
      })

    /**
     * The exchange count at the previous applied exchange or round. Tests and checkpoints fall due when
     * the count passes a multiple of their interval, not only when it lands on one: a synchronous round
     * adds one per member, and a round closed while some workers were still registering (or after one
     * left) puts the count off the members' multiple for good.
     */
    let exchangesBefore = state.exchanges
    const passes = (every: number | undefined, before: number, after: number): boolean =>
      every !== undefined && every > 0 && Math.floor(after / every) > Math.floor(before / every)

    /** After each applied exchange or round: maybe test (queued behind a test still running) and maybe checkpoint. */
    const afterExchange = Effect.gen(function* () {
      resetsSinceApplied = 0
      const e = state.exchanges
      const before = exchangesBefore
      exchangesBefore = e
      if (passes(options.testInterval, before, e)) yield* queueTest(state.x.slice(), e)
      if (passes(options.checkpointEvery, before, e)) yield* Effect.forkDaemon(runCheckpoint(state.x.slice(), state.checkpointState()))
      if (state.shouldStop()) yield* Deferred.succeed(stopped, undefined)
    })

    // Elastic runs: joiners waiting for records, served by the next exchange that can give them some
    // (a split of the exchanging worker's remaining range) or by a range left open.
    let joiners: Array<{ req: RegisterRequest; done: Deferred.Deferred<RegisterReply, CenterRejected> }> = []
    const admit = (j: (typeof joiners)[number], a: Assignment) =>
      catchDefects(() => state.register(j.req, now(), a)).pipe(
        Effect.tap(() => Effect.sync(() => log(`Worker ${forLog(j.req.workerId)} joined: records [${a.from}, ${a.to}) of epoch ${a.epoch}`))),
        Effect.exit,
        Effect.flatMap((exit) => Deferred.done(j.done, exit))
      )
    /** Serves waiting joiners from open ranges (after a leave or a drop). */
    const serveJoinersFromOpen = Effect.gen(function* () {
      const waiting = joiners
      joiners = []
      for (const j of waiting) {
        const a = yield* catchDefects(() => state.rangeForJoiner(j.req, joiners.length))
        if (a) yield* admit(j, a)
        else joiners.push(j)
      }
    })
    /**
     * At a validated exchange of an elastic run: the worker's progress, then a range for it if it read
     * its own, and waiting joiners served from what it has left. Returns the worker's new range, if any.
     */
    const elasticStep = (req: ExchangeRequest) =>
      Effect.gen(function* () {
        if (!state.plan) return undefined
        let next = yield* catchDefects(() => state.elasticProgress(req, joiners.length))
        yield* serveJoinersFromOpen
        while (joiners.length > 0) {
          const split = state.splitFor(req.workerId, joiners[0]!.req.workerId)
          if (!split) break
          next = split.donor
          yield* admit(joiners.shift()!, split.joiner)
        }
        return next
      })
    const withAssignment = (reply: ExchangeReply, next: Assignment | undefined): ExchangeReply => (next ? { ...reply, assignment: next } : reply)

    const register = (req: RegisterRequest): Effect.Effect<RegisterReply, CenterRejected> =>
      !state.plan || !req.join
        ? catchDefects(() => state.register(req, now()))
        : Effect.gen(function* () {
            yield* catchDefects(() => state.checkRegister(req))
            const a = yield* catchDefects(() => state.rangeForJoiner(req, joiners.length))
            if (a) return yield* catchDefects(() => state.register(req, now(), a))
            log(`Worker ${forLog(req.workerId)} asks to join: waiting for a worker's exchange to split its records`)
            const done = yield* Deferred.make<RegisterReply, CenterRejected>()
            joiners = [...joiners.filter((j) => j.req.workerId !== req.workerId), { req, done }]
            return yield* Deferred.await(done)
          })

    // Synchronous rules: members wait here until every active worker has arrived.
    let round: Array<{ req: ExchangeRequest; done: Deferred.Deferred<ExchangeReply, CenterRejected> }> = []
    const closeRoundIfComplete = Effect.gen(function* () {
      const active = state.activeWorkers().length
      if (round.length === 0 || round.length < active) return
      const members = round
      round = []
      const replies = state.applyRound(members.map((m) => m.req))
      for (let i = 0; i < members.length; i++) yield* Deferred.succeed(members[i]!.done, replies[i]!)
      yield* afterExchange
    })

    const exchange = (req: ExchangeRequest, replyTensor?: (n: number) => Float32Array): Effect.Effect<ExchangeReply, CenterRejected> =>
      state.rule.synchronous
        ? Effect.gen(function* () {
            const v = yield* catchDefects(() => state.validateForRound(req, now()))
            const next = yield* elasticStep(req)
            if (v !== "join") {
              if (v.reset) yield* afterReset
              return withAssignment(v, next)
            }
            const done = yield* Deferred.make<ExchangeReply, CenterRejected>()
            round = round.filter((m) => m.req.workerId !== req.workerId)
            round.push({ req, done })
            yield* closeRoundIfComplete
            return withAssignment(yield* Deferred.await(done), next)
          })
        : catchDefects(() => state.exchange(req, now(), replyTensor)).pipe(
            Effect.tap((r) => (r.duplicate ? Effect.void : r.reset ? afterReset : afterExchange)),
            Effect.flatMap((r) => Effect.map(elasticStep(req), (next) => withAssignment(r, next)))
          )

    // Drop silent workers; a dropped worker no longer holds up a synchronous round.
    const timeout = Duration.toMillis(options.heartbeatTimeout ?? "60 seconds")
    yield* Effect.gen(function* () {
      const dropped = state.dropSilent(now(), timeout)
      for (const id of dropped) {
        log(`Worker ${forLog(id)} dropped: no message for ${Math.round(timeout / 1000)} s`)
        options.onWorkerDropped?.(id, `no message for ${Math.round(timeout / 1000)} s`)
      }
      if (dropped.length) yield* serveJoinersFromOpen
      if (dropped.length) yield* closeRoundIfComplete
    }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.max(50, Math.min(timeout / 4, 5000))))), Effect.forkScoped)

    const api: CenterApi = {
      token: config.token,
      ruleName: state.rule.name,
      view: Effect.sync(() => ({
        exchanges: state.exchanges,
        version: state.version,
        workers: new Map([...state.workers].map(([id, w]) => [id, { ...w, partition: { ...w.partition } }])),
        activeWorkers: state.activeWorkers().length
      })),
      params: Effect.sync(() => state.x.slice()),
      checkpointData: Effect.sync(() => ({ x: state.x.slice(), state: state.checkpointState() })),
      plannedWorkersFinished: (planned) => Effect.sync(() => plannedWorkersFinished(state, planned)),
      restore: (x, checkpoint) =>
        Effect.sync(() => {
          state.restore(x, checkpoint)
          exchangesBefore = state.exchanges
          return { ruleStateRestored: !state.restoredWithoutRuleState }
        }),
      register,
      exchange,
      report: (p) => catchDefects(() => state.report(p, now())),
      heartbeat: (p) => catchDefects(() => state.heartbeat(p, now())),
      stopWorker: (p) =>
        catchDefects(() => state.stopWorker(p)).pipe(
          Effect.tap((how) =>
            Effect.sync(() => {
              log(
                how === "finished"
                  ? `Worker ${forLog(p.workerId)} ${p.leaving ? "left the job" : "stopped"}: ${forLog(p.reason)}`
                  : `Worker ${forLog(p.workerId)} left before its first exchange (${forLog(p.reason)}): not counted as finished`
              )
              options.onWorkerStopped?.(p.workerId, how === "finished" ? p.reason : `left before its first exchange (${p.reason})`)
            })
          ),
          Effect.asVoid,
          Effect.zipRight(serveJoinersFromOpen),
          Effect.zipRight(closeRoundIfComplete)
        ),
      snapshot: (token) =>
        token !== config.token
          ? Effect.fail(new CenterRejected({ reason: "auth", message: "snapshot: authentication failed (wrong token)" }))
          : Effect.suspend(() => runCheckpoint(state.x.slice(), state.checkpointState())).pipe(
              Effect.flatMap((path) =>
                path._tag === "Some"
                  ? Effect.succeed({ caffemodel: path.value, state: path.value.replace(/\.caffemodel$/, ".dsstate") })
                  : Effect.fail(new CenterRejected({ reason: "bad-request", message: "this center writes no snapshots" }))
              )
            ),
      // Suspended: x̃ is copied when the effect runs, not when the service is built.
      testNow: Effect.suspend(() => runTest(state.x.slice(), state.exchanges)).pipe(Effect.map((o) => (o._tag === "Some" ? o.value : undefined))),
      checkpointNow: Effect.suspend(() => runCheckpoint(state.x.slice(), state.checkpointState())).pipe(
        Effect.map((o) => (o._tag === "Some" ? o.value : undefined))
      ),
      requestStop: Effect.sync(() => {
        state.stopping = true
      }).pipe(Effect.zipRight(Deferred.succeed(stopped, undefined)), Effect.asVoid),
      stopped: Deferred.await(stopped),
      quiesce: Ref.get(lastQueuedTest).pipe(
        Effect.flatMap((f) => (f ? Fiber.await(f) : Effect.void)),
        Effect.zipRight(testSem.withPermits(1)(ckptSem.withPermits(1)(Effect.void)))
      )
    }
    return api
  })

const undefinedOption = { _tag: "None" } as const satisfies { _tag: "None" }

export const layerCenter = (config: CenterConfig, options: CenterOptions = {}) => Layer.scoped(Center, makeCenter(config, options))

/** The RPC handlers: every CenterRpcs message delegated to the Center service. */
export const CenterHandlersLive = centerRpcHandlers(Effect.map(Center, (center): CenterEndpoint => center))

/** Caffe's `%g` number formatting (the engine's), re-exported for the center's log lines. */
export { formatG } from "@deepspark/engine"
