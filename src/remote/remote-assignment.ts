import type { WorkerAssignment } from "../local/trainer-spec.js"

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
}

/** Child exit codes: the supervisor restarts on anything but these two. */
export const childExit = {
  done: 0,
  /** The center refused this worker for good (token, net shape, partition, size): restarting won't help. */
  rejected: 3
} as const
