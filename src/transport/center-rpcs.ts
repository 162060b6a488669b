import * as Rpc from "@effect/rpc/Rpc"
import * as RpcGroup from "@effect/rpc/RpcGroup"
import { Schema } from "effect"
import { boundedString, MAX_CURSOR_LENGTH, MAX_ID_LENGTH, MAX_MESSAGE_LENGTH, MAX_PATH_LENGTH, MAX_TOKEN_LENGTH } from "./bounded-string.js"
import { Float32ArrayFromBytes } from "./float32-schema.js"

/**
 * Every message between workers and the center, as one RpcGroup. The same group runs over
 * worker_threads (local mode) and over TCP (multi-process / multi-host), serialised with msgpack.
 *
 * Identity: a worker registers with the shared token and gets an `incarnation` number; every later call
 * carries (workerId, incarnation, token). A restarted worker registers again and gets a new
 * incarnation, so a late message from its dead predecessor is recognisably stale.
 *
 * Exchanges carry a per-incarnation sequence number `seq` (1, 2, …): an exchange whose seq is not
 * above the last one applied for that worker is a duplicate (a retry whose reply was lost); the center
 * does not absorb it again and answers with the current x̃ and `duplicate: true`.
 */

export const RejectReason = Schema.Literal("auth", "unknown-worker", "stale", "shape", "size", "stopped", "bad-request")

/** The center refused a request; nothing was applied. */
export class CenterRejected extends Schema.TaggedError<CenterRejected>()("CenterRejected", {
  reason: RejectReason,
  message: boundedString(MAX_MESSAGE_LENGTH)
}) {}

/** Every string is bounded (bounded-string.ts): what a peer sends may end up in a log line. */
export const WorkerId = boundedString(MAX_ID_LENGTH)
export const Token = boundedString(MAX_TOKEN_LENGTH)

export const WorkerIdentity = {
  workerId: WorkerId,
  incarnation: Schema.Int,
  token: Token
}

/** The cursor of a worker's partition (opaque to the center; JSON of the data package's cursor). */
export const Cursor = Schema.NullOr(boundedString(MAX_CURSOR_LENGTH))

/**
 * Elastic runs (a center started with `elastic`): the range of training records, in key order, a worker
 * reads — [from, to) of epoch `epoch`, from its start (see center/elastic-plan.ts).
 */
export const RecordAssignment = Schema.Struct({ id: Schema.Int, epoch: Schema.Int, from: Schema.Int, to: Schema.Int })

export const Register = Rpc.make("Register", {
  payload: {
    workerId: WorkerId,
    token: Token,
    paramCount: Schema.Int,
    partition: Schema.Struct({ index: Schema.Int, count: Schema.Int }),
    /** Joins a running job: the center assigns its records (elastic centers only). */
    join: Schema.optional(Schema.Boolean),
    /** Records in the worker's training set (elastic centers need it to plan ranges). */
    records: Schema.optional(Schema.Int)
  },
  success: Schema.Struct({
    incarnation: Schema.Int,
    center: Float32ArrayFromBytes,
    alpha: Schema.Number,
    /** The center's update rule: it decides what the worker sends and does with each reply. */
    rule: boundedString(MAX_ID_LENGTH),
    version: Schema.Int,
    /** Where this worker (by id) stopped last time: its local iteration and partition cursor. */
    resumeIteration: Schema.Int,
    resumeCursor: Cursor,
    /** Elastic centers: the records to read (the worker resumes from this, not from resumeCursor). */
    assignment: Schema.optional(Schema.NullOr(RecordAssignment))
  }),
  error: CenterRejected
})

export const Exchange = Rpc.make("Exchange", {
  payload: Schema.Struct({
    ...WorkerIdentity,
    seq: Schema.Int,
    /** The worker's local iteration count (its clock). */
    clock: Schema.Int,
    params: Float32ArrayFromBytes,
    /** Sum of the training losses since the previous exchange, and how many iterations that covers. */
    lossSum: Schema.Number,
    iterations: Schema.Int,
    cursor: Cursor,
    /** The worker's speed over the last period and its previous exchange's round trip (metrics). */
    itersPerSecond: Schema.optionalWith(Schema.Number, { default: () => 0 }),
    lastLatencyMs: Schema.optionalWith(Schema.Number, { default: () => 0 }),
    /** Elastic runs: the assignment the worker reads and how many of its records it has read so far. */
    range: Schema.optional(Schema.NullOr(Schema.Struct({ id: Schema.Int, read: Schema.Int })))
  }),
  success: Schema.Struct({
    /** x̃ as it was before this exchange was applied (or the current x̃ for duplicates and resets). */
    center: Float32ArrayFromBytes,
    /** The elastic rate the worker applies: x_i ← α·x̃ + (1−α)·x_i (1 = take x̃ as it is). */
    alpha: Schema.Number,
    version: Schema.Int,
    duplicate: Schema.Boolean,
    /** The worker's parameters were not finite: it must restart from x̃. */
    reset: Schema.Boolean,
    /** The run is over: the worker should stop after applying this reply. */
    stop: Schema.Boolean,
    /** Elastic runs: read these records from now on (a new range, or its range cut for a joiner). */
    assignment: Schema.optional(Schema.NullOr(RecordAssignment))
  }),
  error: CenterRejected
})

export const Report = Rpc.make("Report", {
  payload: {
    ...WorkerIdentity,
    clock: Schema.Int,
    loss: Schema.Number,
    itersPerSecond: Schema.Number,
    cursor: Cursor
  },
  error: CenterRejected
})

export const Heartbeat = Rpc.make("Heartbeat", {
  payload: { ...WorkerIdentity, clock: Schema.Int },
  success: Schema.Struct({ stop: Schema.Boolean }),
  error: CenterRejected
})

export const Snapshot = Rpc.make("Snapshot", {
  payload: { token: Token },
  success: Schema.Struct({ caffemodel: boundedString(MAX_PATH_LENGTH), state: boundedString(MAX_PATH_LENGTH) }),
  error: CenterRejected
})

export const Stop = Rpc.make("Stop", {
  payload: {
    ...WorkerIdentity,
    reason: boundedString(MAX_MESSAGE_LENGTH),
    /** The worker leaves the job for good before max_iter (its remaining records go to the others). */
    leaving: Schema.optional(Schema.Boolean)
  },
  error: CenterRejected
})

export class CenterRpcs extends RpcGroup.make(Register, Exchange, Report, Heartbeat, Snapshot, Stop) {}
