import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import path from "node:path"
import { writeFileAtomic } from "@deepspark/caffe"
import { Data, Effect, Either, Schema } from "effect"
import { decodeInput } from "../transport/decode-input.js"
import type { CenterJob } from "./center-job.js"
import type { CenterCheckpointState } from "./center-state.js"
import { ElasticPlan } from "./elastic-plan.js"

/**
 * The center's checkpoint, one format for every run (`deepspark center`, `deepspark train --workers`,
 * the API): x̃ in the job's model format (`<base><ext>`, a .caffemodel for Caffe jobs) plus the
 * bookkeeping as JSON (`<base>.dsstate`). Both are written atomically (temp file + rename), model first,
 * so a .dsstate on disk always names a complete model. Periodic checkpoints are
 * `<prefix>_exchange_<n>`; the driver's final snapshot is `<prefix>_iter_<max_iter>`.
 */

/** The .dsstate JSON: CenterState's checkpoint state plus the model file's name (beside it). */
export interface CenterCheckpointFile extends CenterCheckpointState {
  readonly model: string
}

export const exchangeCheckpointBase = (prefix: string, exchanges: number): string => `${prefix}_exchange_${exchanges}`

/** Writes `<base><ext>` and `<base>.dsstate`; returns both paths. */
export const writeCenterCheckpoint = async (
  job: CenterJob,
  base: string,
  x: Float32Array,
  state: CenterCheckpointState
): Promise<{ readonly model: string; readonly state: string }> => {
  if (!job.writeModel) throw new Error(`${job.description}: this job cannot write checkpoints`)
  const paths = { model: `${base}${job.modelExtension}`, state: `${base}.dsstate` }
  await job.writeModel(x, paths.model)
  const file: CenterCheckpointFile = { ...state, model: path.basename(paths.model) }
  await Effect.runPromise(writeFileAtomic(paths.state, `${JSON.stringify(file, null, 1)}\n`))
  return paths
}

/** A checkpoint that cannot be resumed from; the message names the file (and the field at fault). */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{ readonly file: string; readonly message: string }> {
  static of(file: string, detail: string): CheckpointError {
    return new CheckpointError({ file, message: `${file}: ${detail}` })
  }
}

const count = Schema.Int.pipe(Schema.nonNegative()).annotations({ message: () => "must be a non-negative integer" })
const float32Base64 = Schema.String.pipe(
  Schema.filter((v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && Buffer.from(v, "base64").length % 4 === 0)
).annotations({ message: () => "must be base64 of float32 values" })

/** Elastic runs: the data plan (every unfinished range, open) and the rate schedule's clock. */
const ElasticCheckpointSchema = Schema.Struct({
  plan: Schema.Struct({
    records: Schema.NullOr(count),
    nextId: count,
    plannedEpochs: count,
    repeated: count,
    open: Schema.Array(Schema.Struct({ epoch: count, from: count, to: count, previousOwner: Schema.optionalWith(Schema.String, { exact: true }) }))
  }),
  scheduleClock: Schema.Number.pipe(Schema.nonNegative())
})

/**
 * The .dsstate as it is read back. `caffemodel` is how runDistributedTrain named the model file before
 * both runs shared this format; `model` or `caffemodel` must be there (checked after decoding).
 */
const CenterCheckpointFileSchema = Schema.Struct({
  format: Schema.String,
  version: count,
  exchanges: count,
  rule: Schema.String,
  alpha: Schema.Number,
  centerRate: Schema.Number,
  // The rule's own state (DiLoCo's outer momentum): buffers as base64 of float32 bytes.
  ruleState: Schema.optionalWith(
    Schema.Record({ key: Schema.String, value: float32Base64 }).annotations({ message: () => "must be an object" }),
    { exact: true }
  ),
  workers: Schema.Array(
    Schema.Struct({
      workerId: Schema.String,
      incarnation: count,
      partition: Schema.Struct({ index: count, count }),
      clock: count,
      cursor: Schema.NullOr(Schema.String),
      exchanges: count
    })
  ).annotations({ message: () => "must be an array" }),
  elastic: Schema.optionalWith(ElasticCheckpointSchema, { exact: true }),
  model: Schema.optionalWith(Schema.String, { exact: true }),
  caffemodel: Schema.optionalWith(Schema.String, { exact: true })
}).annotations({ message: () => "is not a JSON object" })

/** Reads a .dsstate and the model it names; checks the format and the parameter count. */
export const readCenterCheckpoint = async (
  job: CenterJob,
  statePath: string
): Promise<{ readonly x: Float32Array; readonly state: CenterCheckpointFile; readonly model: string }> => {
  let json: unknown
  try {
    json = JSON.parse(await readFile(statePath, "utf8"))
  } catch (e) {
    throw CheckpointError.of(statePath, `cannot read the center state: ${(e as Error).message}`)
  }
  const format = (json as { readonly format?: unknown } | null)?.format
  if (format !== "deepspark-center/1") throw CheckpointError.of(statePath, `format ${JSON.stringify(format)} is not deepspark-center/1`)
  const decoded = Either.getOrThrowWith(decodeInput(CenterCheckpointFileSchema, statePath)(json), (e) => new CheckpointError({ file: statePath, message: e.message }))
  const { caffemodel, model: modelField, ...state } = decoded
  // The plan's ranges must lie in the training set and not be empty: checked by restoring a scratch plan.
  if (state.elastic !== undefined) {
    try {
      new ElasticPlan(1).restore(state.elastic.plan)
    } catch (e) {
      throw CheckpointError.of(statePath, `field "elastic.plan": ${(e as Error).message}`)
    }
  }
  const name = modelField ?? caffemodel
  if (name === undefined) throw CheckpointError.of(statePath, `field "model" (the model file) is missing`)
  if (!job.readModel) throw CheckpointError.of(statePath, `${job.description}: this job cannot read checkpoints`)
  const model = path.resolve(path.dirname(statePath), name)
  if (!existsSync(model)) throw CheckpointError.of(statePath, `its model file ${model} does not exist`)
  const x = await job.readModel(model)
  if (x.length !== job.paramCount) throw CheckpointError.of(model, `${x.length} parameters, the job's net has ${job.paramCount}`)
  return { x, state: { ...state, format: "deepspark-center/1", model: name }, model }
}
