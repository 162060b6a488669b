import { Rng } from "@deepspark/engine"
import { allFinite, distance } from "../easgd/kernels.js"
import { ruleByName } from "../easgd/rule-registry.js"
import { lrScaleAt, type EasgdSettings } from "../easgd/settings.js"
import { composeMessage } from "../easgd/update-rule.js"
import { fixed, sample, type Distribution } from "./distributions.js"
import { EventQueue } from "./event-queue.js"
import type { SimProblem } from "./problem.js"

/**
 * A deterministic discrete-event simulation of N workers and the center in one process, on virtual
 * clocks. Each worker computes local steps (duration drawn from its compute distribution), exchanges
 * with the center every τ steps (or adaptively), and waits for the reply, which travels over a link
 * with its own delay distribution each way — exactly the protocol the real runtime runs, through the
 * same UpdateRule objects (src/easgd/rules/*) as the center actor and the trainer loop. With
 * lr_scaling the problem's lr is scaled as a worker's solver would be. Same seed, same result.
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
  const rule = ruleByName(settings.rule)
  if (rule.singleWorker && n !== 1) throw new RangeError(`simulate: rule "${rule.name}" runs one worker, got ${n}`)
  const master = new Rng(config.seed)
  const center = problem.init(master)
  const asyncCenter = rule.synchronous ? undefined : rule.center(settings, n, center.length)
  const syncCenter = rule.synchronous ? rule.center(settings, n, center.length) : undefined
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
    const message = composeMessage(rule.sends, w.params, w.lastPull, w.message)
    if (message !== w.message) w.message.set(message)
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
        const loss = problem.step(w.params, w.id, n, w.iteration, w.rng, lrScaleAt(settings, n, w.iteration))
        w.iteration++
        w.sinceExchange++
        w.lossSinceExchange += loss
        const periodDue = settings.adaptivePeriod
          ? w.firstPeriodLoss === null
            ? w.sinceExchange >= settings.period
            : w.lossSinceExchange > w.firstPeriodLoss
          : w.sinceExchange >= settings.period
        const last = w.iteration >= config.iterationsPerWorker
        // A synchronous rule's last partial period still joins a round (the others wait for it).
        if (periodDue || (last && w.sinceExchange > 0 && rule.synchronous)) {
          if (w.firstPeriodLoss === null) w.firstPeriodLoss = w.lossSinceExchange
          w.sinceExchange = 0
          w.lossSinceExchange = 0
          send(w, now)
        } else if (last) {
          w.done = true
          w.finishTime = now
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
        if (syncCenter) {
          waiting.push(w)
          const running = workers.filter((x) => !x.done).length
          if (waiting.length >= running) {
            const members = waiting.splice(0)
            const replies = syncCenter.round(
              center,
              members.map((m) => m.message),
              exchanges
            )
            version++
            members.forEach((m, i) => {
              m.reply.set(replies[i]!.reply)
              m.replyAlpha = 1
              afterExchangeApplied(at)
              replyTo(m, at)
            })
          }
          break
        }
        const workersPresent = workers.filter((x) => !x.done).length
        const outcome = asyncCenter!.exchange(center, { message: w.message, reply: w.reply, staleness: stale, exchanges, workersPresent })
        if (!outcome.applied) {
          w.replyAlpha = 1 // reset from x̃, which the reply holds
          replyTo(w, at)
          break
        }
        w.replyAlpha = outcome.alpha
        version++
        afterExchangeApplied(at)
        replyTo(w, at)
        break
      }
      case "reply": {
        w.exchanges++
        w.latencySum += now - w.sentAt
        w.lastDistance = distance(w.params, w.reply)
        const next = rule.workerStep(w.params, w.reply, w.replyAlpha)
        if (next !== w.params) w.params.set(next)
        w.lastPull.set(w.params)
        if (w.iteration >= config.iterationsPerWorker) {
          w.done = true
          w.finishTime = now
        } else startStep(w, now)
        break
      }
    }
  }
  if (timeline[timeline.length - 1]!.exchanges !== exchanges) evaluateAt(now)
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
