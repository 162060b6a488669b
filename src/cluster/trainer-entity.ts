import * as Entity from "@effect/cluster/Entity"
import * as Rpc from "@effect/rpc/Rpc"
import { Schema } from "effect"
import { boundedString, MAX_ID_LENGTH, MAX_MESSAGE_LENGTH, MAX_PATH_LENGTH, MAX_TOKEN_LENGTH } from "../transport/bounded-string.js"
import { WorkerAssignment } from "../worker/trainer-spec.js"
import { ClusterAuth } from "./cluster-auth.js"

/**
 * The `Trainer` entity of cluster mode: one entity per partition of a run, hosted by whichever
 * @effect/cluster runner owns its shard. Its one message, `Train`, carries what a `deepspark worker`
 * is told on its command line — the partition's WorkerAssignment and where the center listens — and is
 * answered when the trainer has run its partition to max_iter (or the center stopped the run).
 *
 * `Train` is volatile (not persisted): a run lives as long as its driver, which holds the center, so
 * nothing about it should outlive the driver in the cluster's storage. When a runner dies, the driver's
 * pending `Train` fails over: the cluster re-sends it to the runner that takes the shard over, whose
 * trainer registers again under the same worker id and resumes the partition from its last exchange.
 */

/** Every string is bounded (../transport/bounded-string.ts). */
const Path = boundedString(MAX_PATH_LENGTH)

/** What the runner's trainer needs besides the assignment: the center's address and the client limits. */
export const TrainPayload = Schema.Struct({
  /** The same WorkerAssignment schema as every pool's (../worker/trainer-spec.ts). */
  assignment: WorkerAssignment,
  centerHost: boundedString(255),
  centerPort: Schema.Int,
  heartbeatEveryMs: Schema.Number,
  callTimeoutMs: Schema.Number,
  maxMessageBytes: Schema.Number,
  /** Restarts of a crashed trainer process on the same runner, and the first backoff (doubling). */
  maxRestarts: Schema.Int,
  backoffMs: Schema.Number,
  /** Stage the partition's training data from this staging server into `dir` (under the working directory) first. */
  staging: Schema.optionalWith(Schema.Struct({ host: boundedString(255), port: Schema.Int, dir: Path }), { exact: true })
})
export type TrainPayload = typeof TrainPayload.Type

export const TrainResult = Schema.Struct({
  /** The runner that finished the partition (host:port). */
  runner: boundedString(MAX_ID_LENGTH),
  /** Restarts of the trainer process on that runner (moves between runners are counted by the center). */
  restarts: Schema.Int,
  iterations: Schema.Int,
  exchanges: Schema.Int,
  stoppedByCenter: Schema.Boolean
})
export type TrainResult = typeof TrainResult.Type

/**
 * The trainer cannot finish, and sending it again will not help: the center refused it for good
 * (`rejected`: token, net shape, partition, size), or it kept crashing on its runner (`gave-up`).
 */
export class TrainerFailed extends Schema.TaggedError<TrainerFailed>()("TrainerFailed", {
  workerId: boundedString(MAX_ID_LENGTH),
  runner: boundedString(MAX_ID_LENGTH),
  reason: Schema.Literal("rejected", "gave-up"),
  message: boundedString(MAX_MESSAGE_LENGTH)
}) {}

/** Every `Train` is signed with the cluster secret and checked by the runner first (cluster-auth.ts). */
export const Train = Rpc.make("Train", { payload: TrainPayload, success: TrainResult, error: TrainerFailed }).middleware(ClusterAuth)

export const TrainerEntity = Entity.make("deepspark/Trainer", [Train])
