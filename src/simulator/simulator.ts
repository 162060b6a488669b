import { Rng } from "@deepspark/engine"
import {
  allFinite,
  averageRound,
  centerAddDelta,
  centerElastic,
  distance,
  isSynchronous,
  syncElasticRound,
  workerDelta,
  workerElastic
} from "../easgd/rules.js"
import { rateSchedule, type EasgdSettings } from "../easgd/settings.js"
import { fixed, sample, type Distribution } from "./distributions.js"
import { EventQueue } from "./event-queue.js"
import type { SimProblem } from "./problem.js"

/**
 * A deterministic discrete-event simulation of N workers and the center in one process, on virtual
 * clocks. Each worker computes local steps (duration drawn from its compute distribution), exchanges
 * with the center every τ steps (or adaptively), and waits for the reply, which travels over a link
 * with its own delay distribution each way — exactly the protocol the real runtime runs, so the same
 * update-rule kernels are exercised. Same seed, same result.
 */
export interface SimWorkerSpec {
  /** Virtual seconds per local iteration. */
  readonly compute: Distribution
  /** One-way message delay (each direction sampled separately). */
  readonly network: Distribution
}

export interface SimulationConfig {
  readonly problem: SimProblem
  readonly settings: EasgdSettings
  readonly workers: number | ReadonlyArray<SimWorkerSpec>
  /** Local iterations per worker (DeepSpark: every worker runs max_iter). */
  readonly iterationsPerWorker: number
  readonly seed: number
  /** Evaluate the center every this many exchanges (and at the end). */
  readonly evalEveryExchanges?: number
  /** Per-message transfer time added on top of the delay (models message size / bandwidth). */
  readonly transfer?: Distribution
  /** Time the center spends applying one exchange (its handling is serialised). */
  readonly centerService?: Distribution
}

export interface SimEvalPoint {
  readonly time: number
  readonly exchanges: number
  readonly loss: number
  readonly accuracy: number
}

export interface SimWorkerStats {
  readonly iterations: number
  readonly exchanges: number
  /** Mean number of center updates by others between this worker's pull and its next push. */
  readonly meanStaleness: number
  readonly maxStaleness: number
  readonly meanExchangeLatency: number
  /** ‖x_i − x̃‖ at the worker's last exchange. */
  readonly lastDistance: number
  readonly finishTime: number
}

export interface SimulationResult {
  readonly timeline: ReadonlyArray<SimEvalPoint>
  readonly workers: ReadonlyArray<SimWorkerStats>
  readonly final: SimEvalPoint
  readonly center: Float32Array
  /** Virtual time until the first evaluation at or above each accuracy threshold asked for. */
  timeToAccuracy(threshold: number): number | undefined
}

type Event =
  | { readonly kind: "stepDone"; readonly worker: number }
  | { readonly kind: "arrive"; readonly worker: number }
  | { readonly kind: "reply"; readonly worker: number }

interface WorkerState {
  readonly id: number
  readonly spec: SimWorkerSpec
  readonly rng: Rng
  readonly params: Float32Array
  readonly lastPull: Float32Array
  readonly message: Float32Array
  readonly reply: Float32Array
  iteration: number
  sinceExchange: number
  lossSinceExchange: number
  firstPeriodLoss: number | null
  exchanges: number
  pulledAtVersion: number
  stalenessSum: number
  stalenessMax: number
  latencySum: number
  sentAt: number
  lastDistance: number
  finishTime: number
  replyAlpha: number
  done: boolean
}

export const simulate = (config: SimulationConfig): SimulationResult => {
  const { problem, settings } = config
  const specs: ReadonlyArray<SimWorkerSpec> =
    typeof config.workers === "number"
      ? Array.from({ length: config.workers }, () => ({ compute: fixed(1), network: fixed(0.05) }))
      : config.workers
  const n = specs.length
  if (n < 1) throw new RangeError("simulate: need at least one worker")
  const rule = settings.rule
  if (rule === "single" && n !== 1) throw new RangeError(`simulate: rule "single" runs one worker, got ${n}`)
  const master = new Rng(config.seed)
  const center = problem.init(master)
  const schedule = rateSchedule(settings, n)
  const evalEvery = config.evalEveryExchanges ?? Math.max(1, n)
  const transfer = config.transfer ?? fixed(0)
  const service = config.centerService ?? fixed(0)

  const workers: WorkerState[] = specs.map((spec, id) => ({
    id,
    spec,
    rng: master.fork(),
    params: center.slice(),
    lastPull: center.slice(),
    message: new Float32Array(center.length),
    reply: new Float32Array(center.length),
    iteration: 0,
    sinceExchange: 0,
    lossSinceExchange: 0,
    firstPeriodLoss: null,
    exchanges: 0,
    pulledAtVersion: 0,
    stalenessSum: 0,
    stalenessMax: 0,
    latencySum: 0,
    sentAt: 0,
    lastDistance: 0,
    finishTime: 0,
    replyAlpha: settings.movingRate,
    done: false
  }))

  const queue = new EventQueue<Event>()
  let version = 0 // center updates applied
  let exchanges = 0
  let centerFreeAt = 0
  const timeline: SimEvalPoint[] = []
  const evaluateAt = (time: number) => {
    const e = problem.evaluate(center)
    timeline.push({ time, exchanges, loss: e.loss, accuracy: e.accuracy })
  }
  evaluateAt(0)

  // Synchronous rules gather a round of all still-running workers.
  const waiting: WorkerState[] = []

  const startStep = (w: WorkerState, now: number) => {
    queue.push(now + sample(w.spec.compute, w.rng), { kind: "stepDone", worker: w.id })
  }
  const send = (w: WorkerState, now: number) => {
    w.sentAt = now
    if (rule === "downpour") workerDelta(w.params, w.lastPull, w.message)
    else w.message.set(w.params)
    queue.push(now + sample(w.spec.network, w.rng) + sample(transfer, w.rng), { kind: "arrive", worker: w.id })
  }
  const replyTo = (w: WorkerState, at: number) => {
    // Staleness counts center updates since the center composed the reply this worker will absorb.
    w.pulledAtVersion = version
    queue.push(at + sample(w.spec.network, w.rng) + sample(transfer, w.rng), { kind: "reply", worker: w.id })
  }
  const afterExchangeApplied = (at: number) => {
    exchanges++
    if (exchanges % evalEvery === 0) evaluateAt(at)
  }

  for (const w of workers) startStep(w, 0)
  let now = 0
  for (let ev = queue.pop(); ev; ev = queue.pop()) {
    now = ev.time
    const w = workers[ev.value.worker]!
    switch (ev.value.kind) {
      case "stepDone": {
        const loss = problem.step(w.params, w.id, n, w.iteration, w.rng)
        w.iteration++
        w.sinceExchange++
        w.lossSinceExchange += loss
        const periodDue = settings.adaptivePeriod
          ? w.firstPeriodLoss === null
            ? w.sinceExchange >= settings.period
            : w.lossSinceExchange > w.firstPeriodLoss
          : w.sinceExchange >= settings.period
        const last = w.iteration >= config.iterationsPerWorker
        if (rule === "single" && periodDue) {
          // The baseline: the center simply mirrors the lone worker every period.
          w.sinceExchange = 0
          w.lossSinceExchange = 0
          center.set(w.params)
          version++
          afterExchangeApplied(now)
        }
        if (rule !== "single" && (periodDue || (last && w.sinceExchange > 0 && isSynchronous(rule)))) {
          if (w.firstPeriodLoss === null) w.firstPeriodLoss = w.lossSinceExchange
          w.sinceExchange = 0
          w.lossSinceExchange = 0
          send(w, now)
        } else if (last) {
          w.done = true
          w.finishTime = now
          if (rule === "single") center.set(w.params)
        } else startStep(w, now)
        break
      }
      case "arrive": {
        const stale = version - w.pulledAtVersion
        w.stalenessSum += stale
        w.stalenessMax = Math.max(w.stalenessMax, stale)
        const start = Math.max(now, centerFreeAt)
        const at = start + sample(service, w.rng)
        centerFreeAt = at
        if (!allFinite(w.message)) {
          // Divergence: never absorb NaN; the worker is reset from the center.
          w.reply.set(center)
          w.replyAlpha = 1
          replyTo(w, at)
          break
        }
        if (isSynchronous(rule)) {
          waiting.push(w)
          const running = workers.filter((x) => !x.done).length
          if (waiting.length >= running) {
            const members = waiting.splice(0)
            const alpha = schedule.alpha(exchanges)
            const params = members.map((m) => m.message)
            if (rule === "sync-easgd") syncElasticRound(center, params, alpha)
            else averageRound(center, params)
            version++
            for (const m of members) {
              m.reply.set(m.message) // the round already moved the member's copy
              m.replyAlpha = 1
              afterExchangeApplied(at)
              replyTo(m, at)
            }
          }
          break
        }
        if (rule === "downpour") {
          centerAddDelta(center, w.message)
          w.reply.set(center)
          w.replyAlpha = 1
        } else {
          // async-easgd / easgd / eamsgd: reply with x̃ before the update.
          const rate = rule === "async-easgd" ? schedule.centerRate(exchanges) : schedule.alpha(exchanges)
          centerElastic(center, w.message, rate, w.reply)
          w.replyAlpha = schedule.alpha(exchanges)
        }
        version++
        afterExchangeApplied(at)
        replyTo(w, at)
        break
      }
      case "reply": {
        w.exchanges++
        w.latencySum += now - w.sentAt
        w.lastDistance = distance(w.params, w.reply)
        if (w.replyAlpha === 1) w.params.set(w.reply)
        else workerElastic(w.params, w.reply, w.replyAlpha)
        w.lastPull.set(w.params)
        if (w.iteration >= config.iterationsPerWorker) {
          w.done = true
          w.finishTime = now
        } else startStep(w, now)
        break
      }
    }
  }
  if (timeline[timeline.length - 1]!.exchanges !== exchanges || rule === "single") evaluateAt(now)
  const final = timeline[timeline.length - 1]!
  return {
    timeline,
    final,
    center,
    workers: workers.map((w) => ({
      iterations: w.iteration,
      exchanges: w.exchanges,
      meanStaleness: w.exchanges ? w.stalenessSum / w.exchanges : 0,
      maxStaleness: w.stalenessMax,
      meanExchangeLatency: w.exchanges ? w.latencySum / w.exchanges : 0,
      lastDistance: w.lastDistance,
      finishTime: w.finishTime
    })),
    timeToAccuracy: (threshold) => timeline.find((p) => p.accuracy >= threshold)?.time
  }
}
