import type { WorkerAssignment } from "./trainer-spec.js"
import type { TlsFiles } from "../transport/tls-options.js"

/**
 * What `deepspark worker` hands to its trainer child process (as JSON on the command line): the local
 * mode's WorkerAssignment plus where the center is and the timeouts of the TCP client.
 */
export interface RemoteTrainerAssignment {
  readonly host: string
  readonly port: number
  /** maxIter 0 = take max_iter from the Caffe solver. */
  readonly assignment: WorkerAssignment
  readonly heartbeatEveryMs: number
  /** A call to the center that has no answer after this long fails (the child exits, and restarts). */
  readonly callTimeoutMs: number
  readonly maxMessageBytes: number
  /**
   * Stage the partition of every training Data layer from a staging server into `dir` (relative to the
   * working directory) before training, and train on the staged copies (`--stage-from`, `--stage-to`).
   */
  readonly staging?: { readonly host: string; readonly port: number; readonly dir: string }
  /** Connect to the center over TLS (PEM file paths: the CA that signed its certificate, and this worker's own). */
  readonly tls?: TlsFiles
}

/** Child exit codes: the supervisor restarts on anything but these two. */
export const childExit = {
  done: 0,
  /**
   * Refused for good: by the center (token, net shape, partition, size), by the staging server (token,
   * no such database), or a partition this worker cannot read. Restarting won't help.
   */
  rejected: 3
} as const
