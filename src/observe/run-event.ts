import { Schema } from "effect"

/**
 * What happens during a training run, as typed values: the driver publishes them to a PubSub that any
 * number of consumers read (the CLI's log, the event-log file, the SVG plot, the live dashboard, a
 * user's Stream). Schemas because they cross processes (the dashboard's server-sent events, the
 * JSON-lines event log). `t` is seconds since the run started.
 */
const at = { t: Schema.Number }

export class RunStarted extends Schema.TaggedClass<RunStarted>()("RunStarted", {
  ...at,
  solver: Schema.String,
  workers: Schema.Number,
  rule: Schema.String
}) {}

/** A worker's elastic exchange with the center (its mean loss since its previous exchange). */
export class ExchangeApplied extends Schema.TaggedClass<ExchangeApplied>()("ExchangeApplied", {
  ...at,
  worker: Schema.String,
  exchanges: Schema.Number,
  iteration: Schema.Number,
  loss: Schema.Number,
  distance: Schema.Number,
  staleness: Schema.Number,
  itersPerSecond: Schema.Number,
  latencyMs: Schema.Number
}) {}

/** A single solver's displayed training loss (`Iteration N (…), loss = L`). */
export class TrainLoss extends Schema.TaggedClass<TrainLoss>()("TrainLoss", {
  ...at,
  worker: Schema.String,
  iteration: Schema.Number,
  loss: Schema.Number,
  itersPerSecond: Schema.optional(Schema.Number)
}) {}

/** A test of the center (or of the single solver's net) on the solver's test net #0. */
export class TestResult extends Schema.TaggedClass<TestResult>()("TestResult", {
  ...at,
  iteration: Schema.Number,
  exchanges: Schema.optional(Schema.Number),
  accuracy: Schema.optional(Schema.Number),
  loss: Schema.optional(Schema.Number),
  outputs: Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.Number }))
}) {}

export class WorkerJoined extends Schema.TaggedClass<WorkerJoined>()("WorkerJoined", {
  ...at,
  worker: Schema.String,
  incarnation: Schema.Number,
  resumed: Schema.Boolean
}) {}

/** A worker re-registered after dying (its trainer was restarted and resumes its partition). */
export class WorkerRestarted extends Schema.TaggedClass<WorkerRestarted>()("WorkerRestarted", {
  ...at,
  worker: Schema.String,
  incarnation: Schema.Number
}) {}

/** A worker the center stopped hearing from (dropped after the heartbeat timeout), or whose parameters diverged. */
export class WorkerLost extends Schema.TaggedClass<WorkerLost>()("WorkerLost", {
  ...at,
  worker: Schema.String,
  reason: Schema.String
}) {}

/** A worker that finished (or was told to stop). */
export class WorkerStopped extends Schema.TaggedClass<WorkerStopped>()("WorkerStopped", {
  ...at,
  worker: Schema.String,
  reason: Schema.String
}) {}

export class SnapshotWritten extends Schema.TaggedClass<SnapshotWritten>()("SnapshotWritten", {
  ...at,
  file: Schema.String,
  exchanges: Schema.optional(Schema.Number)
}) {}

/** The center diverged (its workers cannot train from x̃, or its test loss is not finite): the run stops. */
export class CenterDiverged extends Schema.TaggedClass<CenterDiverged>()("CenterDiverged", {
  ...at,
  exchanges: Schema.Number,
  iteration: Schema.Number,
  reason: Schema.String
}) {}

export class RunDone extends Schema.TaggedClass<RunDone>()("RunDone", {
  ...at,
  exchanges: Schema.Number,
  seconds: Schema.Number,
  accuracy: Schema.optional(Schema.Number)
}) {}

export const RunEvent = Schema.Union(
  RunStarted,
  ExchangeApplied,
  TrainLoss,
  TestResult,
  WorkerJoined,
  WorkerRestarted,
  WorkerLost,
  WorkerStopped,
  SnapshotWritten,
  CenterDiverged,
  RunDone
)
export type RunEvent = typeof RunEvent.Type

/** The event log's `type` for each event (the names earlier logs used for exchanges and tests). */
export const eventLogType = (e: RunEvent): string => {
  switch (e._tag) {
    case "ExchangeApplied":
      return "exchange"
    case "TestResult":
      return "test"
    case "TrainLoss":
      return "train"
    case "WorkerJoined":
      return "registered"
    case "WorkerRestarted":
      return "restarted"
    case "WorkerLost":
      return "lost"
    case "WorkerStopped":
      return "stopped"
    case "SnapshotWritten":
      return "snapshot"
    case "RunStarted":
      return "started"
    case "CenterDiverged":
      return "center-diverged"
    case "RunDone":
      return "done"
  }
}

/** An event as one event-log record: `{ t, type, ...fields }` without the tag. */
export const eventLogRecord = (e: RunEvent): Record<string, unknown> & { t: number; type: string } => {
  const { _tag, t, ...fields } = e as RunEvent & Record<string, unknown>
  void _tag
  return { t, type: eventLogType(e), ...fields }
}

export const accuracyOf = (outputs: ReadonlyArray<{ readonly name: string; readonly value: number }>) =>
  outputs.find((o) => /accuracy/i.test(o.name))?.value
