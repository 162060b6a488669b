import { Data } from "effect"

/**
 * A worker failure that a restart cannot fix (its partition is unreadable, its configuration is wrong):
 * the worker thread exits with PERMANENT_EXIT_CODE and the supervisor stops the run with this message
 * instead of retrying.
 */
export class PermanentWorkerError extends Data.TaggedError("PermanentWorkerError")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

export const PERMANENT_EXIT_CODE = 2
