import { Duration, Effect, Schedule } from "effect"
import type { CenterClient } from "../transport/tcp.js"
import type { LocalTrainer } from "./local-trainer.js"
import { ruleByName } from "../easgd/rule-registry.js"
import { composeMessage } from "../easgd/update-rule.js"
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
    while (clock < options.maxIter && !stoppedByCenter && !left) {
      const stepped = trainer.step()
      const loss = typeof stepped === "number" ? stepped : yield* Effect.promise(() => stepped)
      clock = trainer.iteration
      since++
      lossSum += loss
      options.onIteration?.(clock, loss)
      const due = options.adaptivePeriod && firstPeriodLoss !== null ? lossSum > firstPeriodLoss : since >= options.period
      // A loss that is not finite goes to the center at once: it resets this worker from x̃.
      if (due || !Number.isFinite(loss) || clock >= options.maxIter) {
        if (firstPeriodLoss === null && Number.isFinite(lossSum)) firstPeriodLoss = lossSum
        const reading = trainer.readParams(params)
        if (reading) yield* Effect.promise(() => reading)
        seq++
        const t0 = Date.now()
        const itersPerSecond = (since * 1000) / Math.max(1, t0 - periodStart)
        // x̃ is lent until the reply is handled: written into the net (writeParams copies), after which its
        // received frame goes back to the transport's pool instead of waiting for a full garbage collection.
        const reply = yield* session.exchange(
          {
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
          },
          (reply) => {
            const { center: _lent, ...rest } = reply
            if (reply.reset) {
              resets++
              if (++consecutiveResets >= MAX_CONSECUTIVE_RESETS && !reply.stop) return { ...rest, diverged: true }
              trainer.resetHistory()
              trainer.writeParams(reply.center)
              if (rule.sends !== "params") lastPull.set(reply.center)
            } else {
              consecutiveResets = 0
              const next = rule.workerStep(params, reply.center, reply.alpha)
              if (next !== params || reply.alpha > 0) trainer.writeParams(next)
              if (rule.sends !== "params") lastPull.set(next)
            }
            return { ...rest, diverged: false }
          }
        )
        exchanges++
        if (reply.diverged)
          return yield* Effect.die(
            new Error(`${options.workerId}: diverged ${consecutiveResets} times in a row from the center's x̃ (at iteration ${clock}); lower the learning rates`)
          )
        lastLatencyMs = Date.now() - t0
        periodStart = Date.now()
        options.onExchange?.({ seq, version: reply.version, alpha: reply.alpha, reset: reply.reset, latencyMs: lastLatencyMs })
        stoppedByCenter = reply.stop
        if (reply.assignment && trainer.elastic) {
          range = reply.assignment
          yield* Effect.promise(async () => trainer.elastic!.assign(range!))
        }
        left = !stoppedByCenter && clock < options.maxIter && (options.leaveRequested?.() ?? false)
        since = 0
        lossSum = 0
      }
      yield* yieldToEventLoop
    }
    const reason = stoppedByCenter ? "stopped by the center" : left ? `left the job at iteration ${clock}` : `reached max_iter ${options.maxIter}`
    yield* client.Stop({ ...identity, reason, ...(left ? { leaving: true } : {}) })
    return { iterations: clock, exchanges, resets, stoppedByCenter, ...(left ? { left } : {}) } satisfies TrainerLoopResult
  })
