import { allFinite } from "../easgd/kernels.js"
import { rateSchedule } from "../easgd/rate-schedule.js"
import { ruleByName } from "../easgd/rule-registry.js"
import type { EasgdSettings } from "../easgd/settings.js"
import type { AsyncRuleCenter, RuleCenterState, SyncRuleCenter, UpdateRule } from "../easgd/update-rule.js"
import { forLog } from "../transport/bounded-string.js"
import { CenterRejected } from "../transport/center-rpcs.js"
import { ElasticPlan, type Assignment, type ElasticPlanState, type ReadSpan } from "./elastic-plan.js"

/**
 * The center variable x̃ and the bookkeeping around it, as plain synchronous code: each method runs to
 * completion on the center's thread, so each exchange is applied whole as it arrives, with no barrier
 * across workers and no lock (DeepSpark's lock-free center, with whole-exchange atomicity for free).
 * The Effect service in ./center-service.ts wraps this with mailboxes, timers, tests and checkpoints.
 */

export interface CenterConfig {
  readonly token: string
  readonly settings: EasgdSettings
  /** Planned number of workers (the decay schedule counts exchanges per N workers). */
  readonly workers: number
  readonly initial: Float32Array
  /** Stop the run after this many exchanges (0 = workers decide by max_iter). */
  readonly maxExchanges?: number
  /**
   * Workers may join and leave during the run: the center assigns the records each reads (key ranges
   * with cursors, see ./elastic-plan.ts) and the rate schedule counts progress per worker, not exchanges.
   */
  readonly elastic?: boolean
}

export interface WorkerRecord {
  readonly workerId: string
  incarnation: number
  partition: { index: number; count: number }
  lastSeq: number
  clock: number
  cursor: string | null
  lastSeen: number
  exchanges: number
  lastDistance: number
  lastLoss: number
  itersPerSecond: number
  lastLatencyMs: number
  resets: number
  stopped: boolean
  connected: boolean
}

export interface ExchangeRequest {
  readonly workerId: string
  readonly incarnation: number
  readonly token: string
  readonly seq: number
  readonly clock: number
  readonly params: Float32Array
  readonly lossSum: number
  readonly iterations: number
  readonly cursor: string | null
  readonly itersPerSecond?: number
  readonly lastLatencyMs?: number
  /** Elastic runs: the assignment read and how many of its records. */
  readonly range?: { readonly id: number; readonly read: number } | null | undefined
}

export interface ExchangeReply {
  readonly center: Float32Array
  readonly alpha: number
  readonly version: number
  readonly duplicate: boolean
  readonly reset: boolean
  readonly stop: boolean
  /** Elastic runs: the records to read from now on (absent: keep reading the current range). */
  readonly assignment?: Assignment | null
}

/** What the center persists in its checkpoint besides x̃ (which goes into a .caffemodel). */
export interface CenterCheckpointState {
  readonly format: "deepspark-center/1"
  readonly version: number
  readonly exchanges: number
  readonly rule: string
  readonly alpha: number
  readonly centerRate: number
  /**
   * The rule's own center state (DiLoCo's outer momentum), each buffer as base64 of its float32 bytes
   * (little-endian); absent for the stateless rules.
   */
  readonly ruleState?: Readonly<Record<string, string>>
  readonly workers: ReadonlyArray<{
    readonly workerId: string
    readonly incarnation: number
    readonly partition: { readonly index: number; readonly count: number }
    readonly clock: number
    readonly cursor: string | null
    readonly exchanges: number
  }>
  /** Elastic runs: the data plan (every unfinished range, open) and the rate schedule's clock. */
  readonly elastic?: { readonly plan: ElasticPlanState; readonly scheduleClock: number }
}

export interface RegisterRequest {
  readonly workerId: string
  readonly token: string
  readonly paramCount: number
  readonly partition: { readonly index: number; readonly count: number }
  readonly join?: boolean | undefined
  readonly records?: number | undefined
}

export interface RegisterReply {
  readonly incarnation: number
  readonly center: Float32Array
  readonly alpha: number
  readonly rule: string
  readonly version: number
  readonly resumeIteration: number
  readonly resumeCursor: string | null
  readonly assignment: Assignment | null
}

export type CenterEvent =
  | { readonly type: "registered"; readonly workerId: string; readonly incarnation: number; readonly resumed: boolean }
  | {
      readonly type: "exchange"
      readonly workerId: string
      readonly exchanges: number
      readonly distance: number
      readonly staleness: number
      readonly loss: number
      /** The worker's local iteration (clock), speed and previous round-trip time. */
      readonly clock: number
      readonly itersPerSecond: number
      readonly latencyMs: number
    }
  | { readonly type: "duplicate"; readonly workerId: string; readonly seq: number }
  | { readonly type: "diverged"; readonly workerId: string; readonly clock: number }
  | { readonly type: "rejected"; readonly workerId: string; readonly reason: string; readonly message: string }
  /** Elastic runs: records a worker read, as its exchange reported them. */
  | ({ readonly type: "records-read" } & ReadSpan)
  | { readonly type: "assigned"; readonly workerId: string; readonly assignment: Assignment; readonly why: "register" | "join" | "next" | "split" }

/** Whether a worker has had an exchange applied (what makes its Stop count as finishing its partition). */
const hasTrained = (w: WorkerRecord): boolean => w.exchanges > 0

/**
 * The run is over for its workers: as many as planned have trained and finished, and every worker that
 * trained has stopped. A worker that registered but never had an exchange applied does not count
 * either way (its Stop is not a finish: see CenterState.stopWorker).
 */
export const plannedWorkersFinished = (state: CenterState, planned: number): boolean => {
  const trained = [...state.workers.values()].filter(hasTrained)
  return trained.length >= planned && trained.every((w) => w.stopped)
}

const reject = (reason: CenterRejected["reason"], message: string) => new CenterRejected({ reason, message })

export class CenterState {
  readonly x: Float32Array
  version = 0
  exchanges = 0
  readonly workers = new Map<string, WorkerRecord>()
  private readonly schedule
  /** The update rule and its center side (one of the two, as the rule is asynchronous or not). */
  readonly rule: UpdateRule
  private readonly asyncCenter: AsyncRuleCenter | undefined
  private readonly syncCenter: SyncRuleCenter | undefined
  private readonly versionAtReply = new Map<string, number>()
  stopping = false
  onEvent: (e: CenterEvent) => void = () => {}
  /** Elastic runs: which records each worker reads. */
  readonly plan: ElasticPlan | undefined
  /**
   * The rate schedule's clock in exchanges of the planned N workers: each applied exchange adds
   * N / (workers present), so α decays after the same number of iterations per worker however many
   * workers come and go (equal to `exchanges` while N are present; non-elastic runs use `exchanges`).
   */
  scheduleClock = 0

  constructor(readonly config: CenterConfig) {
    this.x = config.initial.slice()
    if (config.elastic) {
      this.plan = new ElasticPlan(Math.max(1, config.workers))
      this.plan.onRead = (span) => this.emit({ type: "records-read", ...span })
    } else this.plan = undefined
    this.schedule = rateSchedule(config.settings, Math.max(1, config.workers))
    this.rule = ruleByName(config.settings.rule)
    const workers = Math.max(1, config.workers)
    if (this.rule.synchronous) this.syncCenter = this.rule.center(config.settings, workers, this.x.length)
    else this.asyncCenter = this.rule.center(config.settings, workers, this.x.length)
  }

  get paramCount(): number {
    return this.x.length
  }
  /** The exchange count the rate schedule and the rules see. */
  get scheduleExchanges(): number {
    return this.plan ? Math.floor(this.scheduleClock + 1e-9) : this.exchanges
  }
  get alpha(): number {
    return this.schedule.alpha(this.scheduleExchanges)
  }
  get centerRate(): number {
    return this.schedule.centerRate(this.scheduleExchanges)
  }

  private emit(e: CenterEvent): void {
    this.onEvent(e)
  }

  private authenticate(workerId: string, token: string): void {
    if (token !== this.config.token) {
      this.emit({ type: "rejected", workerId, reason: "auth", message: "bad token" })
      throw reject("auth", `worker "${forLog(workerId)}": authentication failed (wrong token)`)
    }
  }

  private checkTensor(workerId: string, params: Float32Array): void {
    if (params.length !== this.x.length) {
      this.emit({ type: "rejected", workerId, reason: "shape", message: `length ${params.length}` })
      throw reject("shape", `worker "${workerId}": parameter tensor has ${params.length} values, the net has ${this.x.length}`)
    }
  }

  /** Looks up a registered worker and checks its incarnation. */
  private current(workerId: string, incarnation: number, token: string): WorkerRecord {
    this.authenticate(workerId, token)
    const w = this.workers.get(workerId)
    if (!w) throw reject("unknown-worker", `worker "${workerId}" is not registered`)
    if (incarnation !== w.incarnation)
      throw reject("stale", `worker "${workerId}": incarnation ${incarnation} is stale (current ${w.incarnation})`)
    return w
  }

  /** Checks a Register; on an elastic center, also the worker's record count. */
  checkRegister(req: RegisterRequest): void {
    this.authenticate(req.workerId, req.token)
    if (req.paramCount !== this.x.length)
      throw reject("shape", `worker "${req.workerId}": its net has ${req.paramCount} parameters, the center's has ${this.x.length}`)
    if (!(req.partition.count >= 1 && req.partition.index >= 0 && req.partition.index < req.partition.count))
      throw reject("bad-request", `worker "${req.workerId}": bad partition ${req.partition.index}/${req.partition.count}`)
    if (!this.plan) {
      if (req.join) throw reject("bad-request", `worker "${forLog(req.workerId)}" asked to join, but this center is not elastic (start it with --elastic)`)
      return
    }
    if (req.records === undefined) throw reject("bad-request", `worker "${forLog(req.workerId)}": an elastic center needs the worker's training record count`)
    try {
      this.plan.setRecords(req.workerId, req.records)
    } catch (e) {
      throw reject("bad-request", (e as Error).message)
    }
  }

  /** Workers present for planning: connected, not stopped (a joiner waiting counts via `waiting`). */
  private pieces(waiting: number): number {
    return this.activeWorkers().length + waiting
  }

  /**
   * Elastic runs: records for a joiner now, if there are any without splitting a range — an open range,
   * or the next epoch when nobody holds a range. Undefined: it waits for a split (see the service).
   */
  rangeForJoiner(req: RegisterRequest, waiting: number): Assignment | undefined {
    if (!this.plan) return undefined
    const startEpoch = this.plan.holders === 0 || this.plan.holding(req.workerId) !== undefined
    return this.plan.take(req.workerId, { pieces: this.pieces(waiting + 1), startEpoch })
  }

  /** Elastic runs: splits `donor`'s remaining range for `joiner` (see ElasticPlan.split). */
  splitFor(donor: string, joiner: string): { donor: Assignment; joiner: Assignment } | undefined {
    const s = this.plan?.split(donor, joiner)
    if (s) this.emit({ type: "assigned", workerId: donor, assignment: s.donor, why: "split" })
    return s
  }

  /**
   * Registers a worker. On an elastic center it also gets its records: `given` (a joiner's, found by
   * the service), else an open range (its own first, then its static partition's in epoch 0), else a
   * range of the next epoch.
   */
  register(req: RegisterRequest, now: number, given?: Assignment): RegisterReply {
    this.checkRegister(req)
    let assignment: Assignment | null = null
    if (this.plan) {
      const a = given ?? this.plan.take(req.workerId, { pieces: this.pieces(1), startEpoch: true, prefer: req.partition })!
      assignment = a
      this.emit({ type: "assigned", workerId: req.workerId, assignment: a, why: given ? "join" : "register" })
    }
    const prev = this.workers.get(req.workerId)
    const record: WorkerRecord = prev ?? {
      workerId: req.workerId,
      incarnation: 0,
      partition: { ...req.partition },
      lastSeq: 0,
      clock: 0,
      cursor: null,
      lastSeen: now,
      exchanges: 0,
      lastDistance: 0,
      lastLoss: NaN,
      itersPerSecond: 0,
      lastLatencyMs: 0,
      resets: 0,
      stopped: false,
      connected: true
    }
    record.incarnation += 1
    record.lastSeq = 0
    record.partition = { ...req.partition }
    record.lastSeen = now
    record.connected = true
    record.stopped = false
    this.workers.set(req.workerId, record)
    this.versionAtReply.set(req.workerId, this.version)
    this.emit({ type: "registered", workerId: req.workerId, incarnation: record.incarnation, resumed: prev !== undefined })
    return {
      incarnation: record.incarnation,
      center: this.x.slice(),
      alpha: this.alpha,
      rule: this.rule.name,
      version: this.version,
      resumeIteration: record.clock,
      resumeCursor: record.cursor,
      assignment
    }
  }

  /**
   * Elastic runs, at a validated exchange: records the worker's progress through its range; returns
   * the range it must read next when it has read its own (or lost it), else undefined.
   */
  elasticProgress(req: ExchangeRequest, waiting: number): Assignment | undefined {
    if (!this.plan || !req.range) return undefined
    const a = this.plan.progress(req.workerId, req.range.id, req.range.read, this.pieces(waiting))
    if (a) this.emit({ type: "assigned", workerId: req.workerId, assignment: a, why: "next" })
    return a
  }

  /** Elastic runs: the worker reads no more; its remaining records are open for the others. */
  releaseRange(workerId: string): void {
    this.plan?.release(workerId)
  }

  /**
   * Validates an exchange and applies it at once through the rule's center step. Synchronous rules are
   * applied by the caller in rounds (see applyRound).
   */
  /**
   * `replyTensor(n)` gives the floats the reply's x̃ is written to: a transport lends a pooled buffer it
   * takes back once the reply is sent (the reply is never kept here).
   */
  exchange(req: ExchangeRequest, now: number, replyTensor: (n: number) => Float32Array = (n) => new Float32Array(n)): ExchangeReply {
    const w = this.current(req.workerId, req.incarnation, req.token)
    this.checkTensor(req.workerId, req.params)
    w.lastSeen = now
    if (req.seq <= w.lastSeq) {
      this.emit({ type: "duplicate", workerId: w.workerId, seq: req.seq })
      return { center: this.x.slice(), alpha: 1, version: this.version, duplicate: true, reset: false, stop: this.stopping }
    }
    w.lastSeq = req.seq
    const rule = this.asyncCenter
    if (!rule) throw new Error(`exchange: rule ${this.rule.name} is synchronous; use applyRound`)
    // Divergence: the center never absorbs NaN/Inf; the worker restarts from x̃.
    const diverged = (center: Float32Array): ExchangeReply => {
      w.resets++
      this.emit({ type: "diverged", workerId: w.workerId, clock: req.clock })
      return { center, alpha: 1, version: this.version, duplicate: false, reset: true, stop: this.stopping }
    }
    if (!Number.isFinite(req.lossSum)) return diverged(this.x.slice())
    const staleness = this.version - (this.versionAtReply.get(w.workerId) ?? 0)
    const reply = replyTensor(this.x.length)
    const workersPresent = this.activeWorkers().length
    const outcome = rule.exchange(this.x, { message: req.params, reply, staleness, exchanges: this.scheduleExchanges, workersPresent })
    if (!outcome.applied) return diverged(reply) // x̃ untouched; the reply holds it
    this.accept(w, req, outcome.distance)
    this.emit(this.exchangeEvent(w, outcome.distance, staleness))
    this.versionAtReply.set(w.workerId, this.version)
    return { center: reply, alpha: outcome.alpha, version: this.version, duplicate: false, reset: false, stop: this.shouldStop() }
  }

  private accept(w: WorkerRecord, req: ExchangeRequest, dist: number): void {
    this.version++
    this.exchanges++
    this.scheduleClock += this.plan ? Math.max(1, this.config.workers) / Math.max(1, this.activeWorkers().length) : 1
    w.exchanges++
    w.clock = req.clock
    w.cursor = req.cursor
    w.lastDistance = dist
    if (req.iterations > 0) w.lastLoss = req.lossSum / req.iterations
    if (req.itersPerSecond !== undefined && req.itersPerSecond > 0) w.itersPerSecond = req.itersPerSecond
    if (req.lastLatencyMs !== undefined) w.lastLatencyMs = req.lastLatencyMs
  }

  private exchangeEvent(w: WorkerRecord, distance: number, staleness: number): CenterEvent {
    return {
      type: "exchange",
      workerId: w.workerId,
      exchanges: this.exchanges,
      distance,
      staleness,
      loss: w.lastLoss,
      clock: w.clock,
      itersPerSecond: w.itersPerSecond,
      latencyMs: w.lastLatencyMs
    }
  }

  /** Validates a synchronous-round member without applying it (duplicates and resets answered at once). */
  validateForRound(req: ExchangeRequest, now: number): ExchangeReply | "join" {
    const w = this.current(req.workerId, req.incarnation, req.token)
    this.checkTensor(req.workerId, req.params)
    w.lastSeen = now
    if (req.seq <= w.lastSeq) return { center: this.x.slice(), alpha: 1, version: this.version, duplicate: true, reset: false, stop: this.stopping }
    if (!Number.isFinite(req.lossSum) || !allFinite(req.params)) {
      w.lastSeq = req.seq
      w.resets++
      this.emit({ type: "diverged", workerId: w.workerId, clock: req.clock })
      return { center: this.x.slice(), alpha: 1, version: this.version, duplicate: false, reset: true, stop: this.stopping }
    }
    return "join"
  }

  /** Applies one synchronous round of the rule to the members' messages (each validated, finite). */
  applyRound(members: ReadonlyArray<ExchangeRequest>): ExchangeReply[] {
    if (!this.syncCenter) throw new Error(`applyRound: rule ${this.rule.name} is asynchronous`)
    const replies = this.syncCenter.round(
      this.x,
      members.map((m) => m.params),
      this.scheduleExchanges
    )
    return members.map((m, i) => {
      const w = this.workers.get(m.workerId)!
      w.lastSeq = m.seq
      const { reply, distance } = replies[i]!
      this.accept(w, m, distance)
      this.emit(this.exchangeEvent(w, distance, 0))
      return { center: reply, alpha: 1, version: this.version, duplicate: false, reset: false, stop: this.shouldStop() }
    })
  }

  report(req: { workerId: string; incarnation: number; token: string; clock: number; loss: number; itersPerSecond: number; cursor: string | null }, now: number): void {
    const w = this.current(req.workerId, req.incarnation, req.token)
    w.lastSeen = now
    w.clock = Math.max(w.clock, req.clock)
    w.lastLoss = req.loss
    w.itersPerSecond = req.itersPerSecond
  }

  heartbeat(req: { workerId: string; incarnation: number; token: string; clock: number }, now: number): { stop: boolean } {
    const w = this.current(req.workerId, req.incarnation, req.token)
    w.lastSeen = now
    w.connected = true
    return { stop: this.shouldStop() }
  }

  /**
   * A worker says it is done. Only one that has trained (an exchange applied, in this run or before a
   * resume) is marked finished; a Stop from one that never trained only marks it gone, so registering
   * and stopping at once cannot make the planned workers look finished and end the run.
   */
  stopWorker(req: { workerId: string; incarnation: number; token: string }): "finished" | "left" {
    const w = this.current(req.workerId, req.incarnation, req.token)
    this.plan?.release(w.workerId)
    if (!hasTrained(w)) {
      w.connected = false
      return "left"
    }
    w.stopped = true
    return "finished"
  }

  /** Marks workers not heard from within `timeoutMs` as disconnected; returns their ids. */
  dropSilent(now: number, timeoutMs: number): string[] {
    const dropped: string[] = []
    for (const w of this.workers.values())
      if (w.connected && !w.stopped && now - w.lastSeen > timeoutMs) {
        w.connected = false
        this.plan?.release(w.workerId)
        dropped.push(w.workerId)
      }
    return dropped
  }

  activeWorkers(): WorkerRecord[] {
    return [...this.workers.values()].filter((w) => w.connected && !w.stopped)
  }

  shouldStop(): boolean {
    const max = this.config.maxExchanges ?? 0
    if (max > 0 && this.exchanges >= max) this.stopping = true
    return this.stopping
  }

  checkpointState(): CenterCheckpointState {
    return {
      format: "deepspark-center/1",
      version: this.version,
      exchanges: this.exchanges,
      rule: this.config.settings.rule,
      alpha: this.alpha,
      centerRate: this.centerRate,
      ...this.encodedRuleState(),
      ...(this.plan ? { elastic: { plan: this.plan.save(), scheduleClock: this.scheduleClock } } : {}),
      workers: [...this.workers.values()].map((w) => ({
        workerId: w.workerId,
        incarnation: w.incarnation,
        partition: w.partition,
        clock: w.clock,
        cursor: w.cursor,
        exchanges: w.exchanges
      }))
    }
  }

  private encodedRuleState(): { ruleState?: Record<string, string> } {
    const saved = (this.asyncCenter ?? this.syncCenter)!.save()
    if (!saved) return {}
    const out: Record<string, string> = {}
    for (const [name, b] of Object.entries(saved.buffers)) out[name] = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64")
    return { ruleState: out }
  }

  /** Restores x̃ and the bookkeeping from a checkpoint (workers must register again). */
  restore(x: Float32Array, state: CenterCheckpointState): void {
    if (state.format !== "deepspark-center/1") throw new Error(`unknown center checkpoint format ${JSON.stringify(state.format)}`)
    if (x.length !== this.x.length) throw new Error(`checkpoint has ${x.length} parameters, the net has ${this.x.length}`)
    this.restoreRuleState(state)
    this.x.set(x)
    this.version = state.version
    this.exchanges = state.exchanges
    this.scheduleClock = state.exchanges
    if (this.plan && state.elastic) {
      this.plan.restore(state.elastic.plan)
      if (!(Number.isFinite(state.elastic.scheduleClock) && state.elastic.scheduleClock >= 0))
        throw new Error(`checkpoint elastic.scheduleClock must be a number ≥ 0`)
      this.scheduleClock = state.elastic.scheduleClock
    }
    for (const s of state.workers)
      this.workers.set(s.workerId, {
        workerId: s.workerId,
        incarnation: s.incarnation,
        partition: { ...s.partition },
        lastSeq: 0,
        clock: s.clock,
        cursor: s.cursor,
        lastSeen: 0,
        exchanges: s.exchanges,
        lastDistance: 0,
        lastLoss: NaN,
        itersPerSecond: 0,
        lastLatencyMs: 0,
        resets: 0,
        stopped: false,
        connected: false
      })
  }

  /**
   * The rule's own state from a checkpoint. A checkpoint of another rule, or one written before the rule
   * kept state, has none: the rule then starts its state afresh (outer momentum at zero), and says so.
   */
  private restoreRuleState(state: CenterCheckpointState): void {
    const side = (this.asyncCenter ?? this.syncCenter)!
    if (!state.ruleState || state.rule !== this.rule.name) {
      if (side.save()) this.restoredWithoutRuleState = true
      return
    }
    const buffers: Record<string, Float32Array> = {}
    for (const [name, text] of Object.entries(state.ruleState)) {
      if (typeof text !== "string") throw new Error(`checkpoint ruleState.${name} must be a base64 string`)
      const bytes = Buffer.from(text, "base64")
      if (bytes.length % 4 !== 0) throw new Error(`checkpoint ruleState.${name}: ${bytes.length} bytes is not a float32 array`)
      const b = new Float32Array(bytes.length / 4)
      new Uint8Array(b.buffer).set(bytes)
      buffers[name] = b
    }
    side.restore({ buffers } satisfies RuleCenterState)
  }

  /** True when restore() found no state for a rule that keeps some (it started that state afresh). */
  restoredWithoutRuleState = false
}
