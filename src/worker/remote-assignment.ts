import { Schema } from "effect"
import { WorkerAssignment } from "./trainer-spec.js"

const optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })

/**
 * What `deepspark worker` hands to its trainer child process (as JSON on the command line, decoded
 * with this Schema there): the local mode's WorkerAssignment plus where the center is and the
 * timeouts of the TCP client.
 */
export const RemoteTrainerAssignment = Schema.Struct({
  host: Schema.String,
  port: Schema.Int,
  /** maxIter 0 = take max_iter from the Caffe solver. */
  assignment: WorkerAssignment,
  heartbeatEveryMs: Schema.Number,
  /** A call to the center that has no answer after this long fails (the child exits, and restarts). */
  callTimeoutMs: Schema.Number,
  maxMessageBytes: Schema.Number,
  /**
   * Stage the partition of every training Data layer from a staging server into `dir` (relative to the
   * working directory) before training, and train on the staged copies (`--stage-from`, `--stage-to`).
   */
  staging: optional(Schema.Struct({ host: Schema.String, port: Schema.Int, dir: Schema.String })),
  /** Connect to the center over TLS (PEM file paths: the CA that signed its certificate, and this worker's own). */
  tls: optional(Schema.Struct({ cert: optional(Schema.String), key: optional(Schema.String), ca: optional(Schema.String) }))
})
export type RemoteTrainerAssignment = typeof RemoteTrainerAssignment.Type

/** Child exit codes: the supervisor restarts on anything but these two. */
export const childExit = {
  done: 0,
  /**
   * Refused for good: by the center (token, net shape, partition, size), by the staging server (token,
   * no such database), or a partition this worker cannot read. Restarting won't help.
   */
  rejected: 3
} as const
