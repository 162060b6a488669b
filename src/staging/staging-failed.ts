import { Data } from "effect"

/**
 * A worker could not stage its training data (`--stage-from`). `permanent` when trying again cannot
 * help — the staging server refused (token, no such database, a path it does not serve) or the local
 * copy is unusable — so `deepspark worker` stops instead of restarting; otherwise (server unreachable,
 * a transfer cut off) a restart resumes the transfer.
 */
export class StagingFailed extends Data.TaggedError("StagingFailed")<{
  readonly message: string
  readonly permanent: boolean
}> {}
