import { Data } from "effect"

/**
 * Failures a user causes when starting a run, in the error channel (bugs stay defects): a missing or
 * unreadable solver, net, weights, checkpoint or database (`file` names it), or settings that cannot
 * work (`field` names the setting).
 */
export class TrainingSetupError extends Data.TaggedError("TrainingSetupError")<{
  readonly file?: string
  readonly message: string
}> {}

export class TrainingSettingsError extends Data.TaggedError("TrainingSettingsError")<{
  readonly field: string
  readonly message: string
}> {}

/** Why an exception from reading a file failed, without a stack: its message. */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))
