import { Duration, Effect, Fiber, Option, Schedule } from "effect"
import type * as Rpc from "@effect/rpc/Rpc"
import type { Exchange } from "../transport/center-rpcs.js"
import type { CenterClient } from "../transport/tcp.js"
import type { LocalTrainer } from "./local-trainer.js"
import { ruleByName } from "../easgd/rule-registry.js"
import { composeMessage, takeReply } from "../easgd/update-rule.js"
import { centerSession } from "../transport/center-session.js"

/**
 * The trainer actor's life: register with the center, start from x̃ (or resume), then run τ local
 * iterations and exchange, until max_iter or the center says stop. The center's update rule (named in
 * its Register reply) decides what the worker sends (x_i or its progress since the last pull) and what
 * it does with each reply. The numeric work is synchronous, so
 * the loop yields to the event loop between iterations (setImmediate, not yieldNow, which would not let
 * sockets and timers run) to keep heartbeats and replies flowing.
 */
export interface TrainerLoopOptions {
  readonly workerId: string
  readonly token: string
  readonly partition: { readonly index: number; readonly count: number }
  /** τ. */
  readonly period: number
  /** Local iterations to run in total (DeepSpark: every worker runs max_iter). */
  readonly maxIter: number
  readonly adaptivePeriod?: boolean
  readonly heartbeatEvery?: Duration.DurationInput
  readonly onIteration?: (iteration: number, loss: number) => void
  readonly onExchange?: (info: { seq: number; version: number; alpha: number; reset: boolean; latencyMs: number }) => void
  /** Join a running job: the (elastic) center assigns this worker's records. */
  readonly join?: boolean
  /** Checked after each exchange: true makes the worker leave the job for good (Stop with `leaving`). */
  readonly leaveRequested?: () => boolean
  /**
   * Rules whose worker takes x̃ from the reply and sends its progress (downpour, async-diloco): keep
   * training while the exchange is in flight and apply the reply between two iterations as
   * x_i ← x̃ + (x_i − x_sent), the progress made meanwhile going out with the next exchange. Ignored by
   * the other rules.
   */
  readonly overlapExchange?: boolean
}

/** A worker reset from x̃ this many times in a row, with no accepted exchange between, gives up. */
export const MAX_CONSECUTIVE_RESETS = 20

export interface TrainerLoopResult {
  readonly iterations: number
  readonly exchanges: number
  readonly resets: number
  readonly stoppedByCenter: boolean
  /** It left the job before max_iter (leaveRequested). */
  readonly left?: boolean
}

const yieldToEventLoop = Effect.async<void>((resume) => {
  const h = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(h))
})

export const runTrainerLoop = (client: CenterClient, trainer: LocalTrainer, options: TrainerLoopOptions) =>
  Effect.gen(function* () {
    const session = centerSession(client)
    // x̃ is lent until the reply is handled (the transport takes its frame back): kept only as a copy.
    const reg = yield* session.register(
      {
        workerId: options.workerId,
        token: options.token,
        paramCount: trainer.paramCount,
        partition: { index: options.partition.index, count: options.partition.count },
        ...(options.join ? { join: true } : {}),
        ...(trainer.elastic ? { records: trainer.elastic.records } : {})
      },
      (reply) => ({ ...reply, center: reply.center.slice() })
    )
    const identity = { workerId: options.workerId, incarnation: reg.incarnation, token: options.token }
    const rule = yield* Effect.try({ try: () => ruleByName(reg.rule), catch: (e) => new Error(`the center's ${(e as Error).message}`) }).pipe(Effect.orDie)
    // Restore the data position first: a trainer may rebuild its net (and parameters) to do so. An
    // elastic center names the records to read instead (from the cursor it keeps for this worker).
    let range = reg.assignment ?? null
    if (range && !trainer.elastic) return yield* Effect.die(new Error(`${options.workerId}: the center is elastic, but this trainer cannot read assigned record ranges`))
    if (range) yield* Effect.promise(async () => trainer.elastic!.assign(range!))
    else yield* Effect.promise(async () => trainer.restoreCursor(reg.resumeCursor))
    trainer.writeParams(reg.center)
    // x at the last pull: the rules that send progress (Δ) measure it from here.
    const lastPull = rule.sends === "params" ? new Float32Array(0) : reg.center
    trainer.setIteration(reg.resumeIteration)
    trainer.started?.({ incarnation: reg.incarnation, resumeIteration: reg.resumeIteration })

    let clock = reg.resumeIteration
    yield* client
      .Heartbeat({ ...identity, clock })
      .pipe(
        Effect.repeat(Schedule.spaced(options.heartbeatEvery ?? "5 seconds")),
        Effect.catchAll(() => Effect.void),
        Effect.forkScoped
      )

    const params = new Float32Array(trainer.paramCount)
    const message = rule.sends === "params" ? params : new Float32Array(trainer.paramCount)
    const overlap = options.overlapExchange === true && !rule.synchronous && rule.sends !== "params" && rule.workerStep === takeReply
    // Overlap: x̃ of a reply that arrived while training went on (copied: the transport lends it), and
    // the worker's parameters when it applies it.
    const arrived = overlap ? new Float32Array(trainer.paramCount) : new Float32Array(0)
    const current = overlap ? new Float32Array(trainer.paramCount) : new Float32Array(0)
    let seq = 0
    let exchanges = 0
    let resets = 0
    let since = 0
    let lossSum = 0
    let firstPeriodLoss: number | null = null
    let stoppedByCenter = false
    let periodStart = Date.now()
    let lastLatencyMs = 0
    let consecutiveResets = 0
    let left = false

    /** A reset from x̃: forget the local history and continue from x̃ itself. */
    const takeResetFrom = (center: Float32Array) => {
      trainer.resetHistory()
      trainer.writeParams(center)
      if (rule.sends !== "params") lastPull.set(center)
    }
    /** Counts a reset; true when this worker has now diverged too often in a row to go on. */
    const countReset = (stop: boolean) => {
      resets++
      return ++consecutiveResets >= MAX_CONSECUTIVE_RESETS && !stop
    }
    type Settled = Omit<Rpc.Success<typeof Exchange>, "center"> & { readonly seq: number; readonly diverged: boolean }
    /** A reply that arrived while the worker trained on (overlap), with when its request left and it came. */
    type Arrived = Settled & { readonly sentAt: number; readonly arrivedAt: number }
    /** What follows every exchange once its reply is applied: bookkeeping, the center's orders. */
    const afterReply = (reply: Settled, sentAt: number, arrivedAt: number) =>
      Effect.gen(function* () {
        exchanges++
        if (reply.diverged)
          return yield* Effect.die(
            new Error(`${options.workerId}: diverged ${consecutiveResets} times in a row from the center's x̃ (at iteration ${clock}); lower the learning rates`)
          )
        lastLatencyMs = arrivedAt - sentAt
        options.onExchange?.({ seq: reply.seq, version: reply.version, alpha: reply.alpha, reset: reply.reset, latencyMs: lastLatencyMs })
        stoppedByCenter = reply.stop
        if (reply.assignment && trainer.elastic) {
          range = reply.assignment
          yield* Effect.promise(async () => trainer.elastic!.assign(range!))
        }
        left = !stoppedByCenter && clock < options.maxIter && (options.leaveRequested?.() ?? false)
      })
    /** Overlap: applies a reply that arrived while this worker trained on. */
    const applyArrived = (reply: Arrived) =>
      Effect.gen(function* () {
        if (reply.reset) {
          const diverged = countReset(reply.stop)
          if (!diverged) takeResetFrom(arrived)
          return yield* afterReply({ ...reply, diverged }, reply.sentAt, reply.arrivedAt)
        }
        consecutiveResets = 0
        // x_i ← x̃ + (x_i − x_sent): the center's news plus what was learned since the message left;
        // lastPull ← x̃, so that progress goes out with the next message.
        const reading = trainer.readParams(current)
        if (reading) yield* Effect.promise(() => reading)
        for (let k = 0; k < current.length; k++) current[k] = arrived[k]! + (current[k]! - params[k]!)
        trainer.writeParams(current)
        lastPull.set(arrived)
        yield* afterReply(reply, reply.sentAt, reply.arrivedAt)
      })
    let inFlight: Fiber.RuntimeFiber<Arrived, Effect.Effect.Error<ReturnType<CenterClient["Exchange"]>>> | null = null
    const settleInFlight = (wait: boolean) =>
      Effect.gen(function* () {
        if (!inFlight) return
        const done = wait ? Option.some(yield* Fiber.await(inFlight)) : yield* Fiber.poll(inFlight)
        if (Option.isNone(done)) return
        inFlight = null
        yield* applyArrived(yield* done.value)
      })

    while (clock < options.maxIter && !stoppedByCenter && !left) {
      const stepped = trainer.step()
      const loss = typeof stepped === "number" ? stepped : yield* Effect.promise(() => stepped)
      clock = trainer.iteration
      since++
      lossSum += loss
      options.onIteration?.(clock, loss)
      yield* settleInFlight(false)
      const due = options.adaptivePeriod && firstPeriodLoss !== null ? lossSum > firstPeriodLoss : since >= options.period
      // A loss that is not finite goes to the center at once: it resets this worker from x̃.
      if (due || !Number.isFinite(loss) || clock >= options.maxIter) {
        // One exchange at a time: the one in flight is applied first (it may say stop).
        yield* settleInFlight(true)
        if (stoppedByCenter || left) break
        if (firstPeriodLoss === null && Number.isFinite(lossSum)) firstPeriodLoss = lossSum
        const reading = trainer.readParams(params)
        if (reading) yield* Effect.promise(() => reading)
        seq++
        const t0 = Date.now()
        const itersPerSecond = (since * 1000) / Math.max(1, t0 - periodStart)
        const request = {
          ...identity,
          seq,
          clock,
          params: composeMessage(rule.sends, params, lastPull, message),
          lossSum,
          iterations: since,
          cursor: trainer.cursor(),
          itersPerSecond,
          lastLatencyMs,
          ...(range && trainer.elastic ? { range: { id: range.id, read: trainer.elastic.read() } } : {})
        }
        since = 0
        lossSum = 0
        if (overlap && Number.isFinite(loss) && clock < options.maxIter) {
          // Train on; the reply's x̃ is copied as it arrives and applied between two iterations.
          inFlight = yield* Effect.fork(
            session.exchange(request, (reply) => {
              const { center: _lent, ...rest } = reply
              arrived.set(reply.center)
              return { ...rest, seq, diverged: false, sentAt: t0, arrivedAt: Date.now() }
            })
          )
          periodStart = Date.now()
        } else {
          // x̃ is lent until the reply is handled: written into the net (writeParams copies), after which its
          // received frame goes back to the transport's pool instead of waiting for a full garbage collection.
          const reply = yield* session.exchange(request, (reply) => {
            const { center: _lent, ...rest } = reply
            if (reply.reset) {
              if (countReset(reply.stop)) return { ...rest, seq, diverged: true }
              takeResetFrom(reply.center)
            } else {
              consecutiveResets = 0
              const next = rule.workerStep(params, reply.center, reply.alpha)
              if (next !== params || reply.alpha > 0) trainer.writeParams(next)
              if (rule.sends !== "params") lastPull.set(next)
            }
            return { ...rest, seq, diverged: false }
          })
          yield* afterReply(reply, t0, Date.now())
          periodStart = Date.now()
        }
      }
      yield* yieldToEventLoop
    }
    yield* settleInFlight(true)
    const reason = stoppedByCenter ? "stopped by the center" : left ? `left the job at iteration ${clock}` : `reached max_iter ${options.maxIter}`
    yield* client.Stop({ ...identity, reason, ...(left ? { leaving: true } : {}) })
    return { iterations: clock, exchanges, resets, stoppedByCenter, ...(left ? { left } : {}) } satisfies TrainerLoopResult
  })
