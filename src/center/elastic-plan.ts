import { Data } from "effect"

/**
 * Elastic workers' data plan: which records of the training set each worker reads, when workers join
 * and leave during a run. Plain synchronous code owned by the center (CenterState).
 *
 * The records are the training database in key order, [0, records). Each epoch is covered by disjoint
 * contiguous key ranges. A worker holds one range at a time (an `Assignment`) and reads it from its
 * start; at every exchange it reports how many records of it it has read (`read`), so the center knows
 * each worker's cursor exactly at that moment (the worker is blocked on the reply).
 * - Epoch 0 is the static plan: range i of N is Dataset.partition's range partition i/N.
 * - A worker that has read its whole range gets, in its exchange reply, an open range of the oldest
 *   epoch that has one (a range left by a worker that left), else a piece of the next epoch, whose plan
 *   (N equal ranges, N = the workers present) is made when the first worker needs it.
 * - A worker that joins takes an open range if there is one; otherwise it waits for the next exchange of
 *   any worker with two exchange periods' worth of records left (and at least `minSplit`), and that
 *   remaining range [cursor, end) is split in two at its middle: the donor keeps the first half (its
 *   reply says so), the joiner gets the second.
 * - A worker that leaves (or is dropped after the heartbeat timeout) leaves its remaining range, from
 *   its last reported cursor, open for the others.
 *
 * The one way a record is read twice in an epoch: a worker that reaches the end of its range before its
 * next exchange wraps to the range's start until that exchange (at most one exchange period of
 * records); the center counts those reads (`repeated`). Records a worker read after its last exchange
 * and before it died are read again by whoever takes its range over: their update never reached x̃.
 */

export interface RecordRange {
  readonly epoch: number
  /** First record (index in key order) and one past the last. */
  readonly from: number
  readonly to: number
}

export interface Assignment extends RecordRange {
  /** Unique per plan: a worker reports progress against the assignment it holds. */
  readonly id: number
}

interface Held {
  readonly assignment: Assignment
  read: number
  /** Records read between its last two reports (one exchange period's worth). */
  lastAdvance: number
}

interface OpenRange extends RecordRange {
  /** The worker that held it (it gets it back first when it registers again, e.g. after a resume). */
  readonly previousOwner?: string
}

/** What a checkpoint keeps of the plan. */
export interface ElasticPlanState {
  readonly records: number | null
  readonly nextId: number
  readonly plannedEpochs: number
  readonly repeated: number
  /** Every range not finished yet: open ones, and held ones from their holder's cursor (as open). */
  readonly open: ReadonlyArray<{ readonly epoch: number; readonly from: number; readonly to: number; readonly previousOwner?: string }>
}

/** A record range a worker read between two reports (for coverage checks and metrics). */
export interface ReadSpan {
  readonly workerId: string
  readonly epoch: number
  readonly from: number
  readonly to: number
}

/** A report or a checkpoint the plan cannot accept (the center answers `bad-request`). */
export class ElasticPlanError extends Data.TaggedError("ElasticPlanError")<{ readonly message: string }> {}

const length = (r: RecordRange): number => r.to - r.from

export class ElasticPlan {
  records: number | null = null
  private nextId = 1
  /** Epochs whose plan exists: 0 … plannedEpochs − 1. */
  private plannedEpochs = 0
  private open: OpenRange[] = []
  private readonly held = new Map<string, Held>()
  /** Records read past the end of a range before the reader's next exchange (read twice in an epoch). */
  repeated = 0
  /** Called with what each report says a worker read (the part within its range). */
  onRead: (span: ReadSpan) => void = () => {}

  constructor(
    /** Pieces of epoch 0 (the planned workers, N of `--workers N`). */
    readonly initialWorkers: number,
    /** A joiner splits a range only when at least this many of its records are left. */
    readonly minSplit = 2
  ) {}

  /** Checks (and on first use records) the training set's size reported by a worker. */
  setRecords(workerId: string, records: number): void {
    if (!(Number.isInteger(records) && records > 0)) throw new ElasticPlanError({ message: `worker "${workerId}": bad record count ${records}` })
    if (this.records === null) this.records = records
    else if (this.records !== records)
      throw new ElasticPlanError({ message: `worker "${workerId}" reads ${records} training records, the run's other workers read ${this.records}` })
  }

  holding(workerId: string): Assignment | undefined {
    return this.held.get(workerId)?.assignment
  }

  /** Workers holding a range. */
  get holders(): number {
    return this.held.size
  }

  openRanges(): ReadonlyArray<RecordRange> {
    return this.open.map((r) => ({ epoch: r.epoch, from: r.from, to: r.to }))
  }

  private assign(workerId: string, r: RecordRange): Assignment {
    const a: Assignment = { id: this.nextId++, epoch: r.epoch, from: r.from, to: r.to }
    this.held.set(workerId, { assignment: a, read: 0, lastAdvance: this.held.get(workerId)?.lastAdvance ?? 0 })
    return a
  }

  private planEpoch(pieces: number): void {
    const n = this.records!
    const epoch = this.plannedEpochs++
    const k = Math.max(1, Math.min(pieces, n))
    for (let p = 0; p < k; p++) this.open.push({ epoch, from: Math.floor((p * n) / k), to: Math.floor(((p + 1) * n) / k) })
  }

  /** Index of the open range a worker should take: its own old one first, then the oldest epoch's first. */
  private pick(workerId: string, prefer?: { index: number; count: number }): number {
    const own = this.open.findIndex((r) => r.previousOwner === workerId)
    if (own >= 0) return own
    if (prefer && this.records !== null && prefer.count === this.initialWorkers) {
      const n = this.records
      const from = Math.floor((prefer.index * n) / prefer.count)
      const i = this.open.findIndex((r) => r.epoch === 0 && r.from === from)
      if (i >= 0) return i
    }
    let best = -1
    for (let i = 0; i < this.open.length; i++) if (best < 0 || this.open[i]!.epoch < this.open[best]!.epoch) best = i
    return best
  }

  /**
   * A range for a worker that needs one now: an open one (`prefer`: the static partition it asked for,
   * taken in epoch 0 when still open), else — when `startEpoch` allows — a piece of the next epoch's
   * plan made for `pieces` workers. Undefined when there is no open range and starting an epoch is not
   * allowed (a joiner then waits for a split).
   */
  take(workerId: string, options: { pieces: number; startEpoch: boolean; prefer?: { index: number; count: number } }): Assignment | undefined {
    if (this.records === null) throw new ElasticPlanError({ message: `worker "${workerId}": the training set's size is not known yet` })
    this.release(workerId)
    if (this.plannedEpochs === 0) this.planEpoch(this.initialWorkers)
    if (this.open.length === 0) {
      if (!options.startEpoch) return undefined
      this.planEpoch(options.pieces)
    }
    const i = this.pick(workerId, options.prefer)
    const [r] = this.open.splice(i, 1)
    return this.assign(workerId, r!)
  }

  /**
   * A worker's report at an exchange: it has read `read` records of assignment `id`. Returns the range
   * it must switch to, if any: a new one when it has read its range (or its range was taken away
   * meanwhile), undefined to keep reading.
   */
  progress(workerId: string, id: number, read: number, pieces: number): Assignment | undefined {
    const h = this.held.get(workerId)
    if (!h || h.assignment.id !== id) {
      // Its range was released (dropped after a timeout, or a resume): what it read since is not its.
      return this.take(workerId, { pieces, startEpoch: true })
    }
    const a = h.assignment
    const len = length(a)
    const before = h.read
    if (read > before) {
      const from = a.from + Math.min(before, len)
      const to = a.from + Math.min(read, len)
      if (to > from) this.onRead({ workerId, epoch: a.epoch, from, to })
      this.repeated += Math.max(0, read - Math.max(before, len))
      h.lastAdvance = read - before
      h.read = read
    }
    if (h.read >= len) return this.take(workerId, { pieces, startEpoch: true })
    return undefined
  }

  /**
   * Splits `donor`'s remaining range for a joiner (called at the donor's exchange, right after its
   * progress, so its cursor is exact): the donor keeps [cursor, middle), the joiner gets [middle, end).
   * Returns both new assignments, or undefined when the donor has fewer than `minSplit` records left,
   * or fewer than two of its exchange periods' worth (each half must last a period: a shorter range
   * would be read around more than once before its reader's next exchange).
   */
  split(donor: string, joiner: string): { donor: Assignment; joiner: Assignment } | undefined {
    const h = this.held.get(donor)
    if (!h) return undefined
    const a = h.assignment
    const cursor = a.from + h.read
    const left = a.to - cursor
    if (left < Math.max(this.minSplit, 2 * h.lastAdvance)) return undefined
    const middle = cursor + Math.ceil(left / 2)
    const kept = this.assign(donor, { epoch: a.epoch, from: cursor, to: middle })
    const given = this.assign(joiner, { epoch: a.epoch, from: middle, to: a.to })
    return { donor: kept, joiner: given }
  }

  /** The worker reads no more (left, finished, dropped): its range from its cursor opens for others. */
  release(workerId: string): void {
    const h = this.held.get(workerId)
    if (!h) return
    this.held.delete(workerId)
    const a = h.assignment
    const cursor = a.from + Math.min(h.read, length(a))
    if (cursor < a.to) this.open.push({ epoch: a.epoch, from: cursor, to: a.to, previousOwner: workerId })
  }

  save(): ElasticPlanState {
    const open = [...this.open.map((r) => ({ ...r }))]
    for (const [workerId, h] of this.held) {
      const a = h.assignment
      const cursor = a.from + Math.min(h.read, length(a))
      if (cursor < a.to) open.push({ epoch: a.epoch, from: cursor, to: a.to, previousOwner: workerId })
    }
    return { records: this.records, nextId: this.nextId, plannedEpochs: this.plannedEpochs, repeated: this.repeated, open }
  }

  /** Restores a saved plan: every unfinished range is open (its holder, re-registering, takes it back). */
  restore(s: ElasticPlanState): void {
    const nat = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0
    if (!(s.records === null || nat(s.records)) || !nat(s.nextId) || !nat(s.plannedEpochs) || !nat(s.repeated) || !Array.isArray(s.open))
      throw new ElasticPlanError({ message: "checkpoint elastic plan: records, nextId, plannedEpochs, repeated and open are required" })
    for (const r of s.open)
      if (!nat(r.epoch) || !nat(r.from) || !nat(r.to) || r.from >= r.to || (s.records !== null && r.to > s.records))
        throw new ElasticPlanError({ message: `checkpoint elastic plan: bad open range ${JSON.stringify(r)}` })
    this.records = s.records
    this.nextId = s.nextId
    this.plannedEpochs = s.plannedEpochs
    this.repeated = s.repeated
    this.held.clear()
    this.open = s.open.map((r) => ({ epoch: r.epoch, from: r.from, to: r.to, ...(r.previousOwner !== undefined ? { previousOwner: r.previousOwner } : {}) }))
  }
}
