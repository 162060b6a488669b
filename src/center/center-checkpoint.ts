import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import path from "node:path"
import { writeFileAtomic } from "@deepspark/caffe"
import { Effect } from "effect"
import type { CenterJob } from "./center-job.js"
import type { CenterCheckpointState } from "./center-state.js"

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

/** A checkpoint that cannot be resumed from; the message names the file. */
export class CheckpointError extends Error {
  readonly _tag = "CheckpointError"
  constructor(
    readonly file: string,
    detail: string
  ) {
    super(`${file}: ${detail}`)
    this.name = "CheckpointError"
  }
}

/** Reads a .dsstate and the model it names; checks the format and the parameter count. */
export const readCenterCheckpoint = async (
  job: CenterJob,
  statePath: string
): Promise<{ readonly x: Float32Array; readonly state: CenterCheckpointFile; readonly model: string }> => {
  let json: unknown
  try {
    json = JSON.parse(await readFile(statePath, "utf8"))
  } catch (e) {
    throw new CheckpointError(statePath, `cannot read the center state: ${(e as Error).message}`)
  }
  // `caffemodel`: how runDistributedTrain named the model file before both runs shared this format.
  const s = json as Partial<CenterCheckpointFile> & { readonly caffemodel?: unknown }
  if (s?.format !== "deepspark-center/1") throw new CheckpointError(statePath, `format ${JSON.stringify(s?.format)} is not deepspark-center/1`)
  for (const field of ["version", "exchanges"] as const)
    if (!Number.isInteger(s[field]) || s[field]! < 0) throw new CheckpointError(statePath, `field "${field}" must be a non-negative integer`)
  if (!Array.isArray(s.workers)) throw new CheckpointError(statePath, `field "workers" must be an array`)
  // The rule's own state (DiLoCo's outer momentum): buffers as base64 of float32 bytes.
  if (s.ruleState !== undefined) {
    const rs: unknown = s.ruleState
    if (typeof rs !== "object" || rs === null || Array.isArray(rs)) throw new CheckpointError(statePath, `field "ruleState" must be an object`)
    for (const [name, v] of Object.entries(rs))
      if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || Buffer.from(v, "base64").length % 4 !== 0)
        throw new CheckpointError(statePath, `field "ruleState.${name}" must be base64 of float32 values`)
  }
  const name = s.model ?? s.caffemodel
  if (typeof name !== "string") throw new CheckpointError(statePath, `field "model" (the model file) is missing`)
  if (!job.readModel) throw new CheckpointError(statePath, `${job.description}: this job cannot read checkpoints`)
  const model = path.resolve(path.dirname(statePath), name)
  if (!existsSync(model)) throw new CheckpointError(statePath, `its model file ${model} does not exist`)
  const x = await job.readModel(model)
  if (x.length !== job.paramCount) throw new CheckpointError(model, `${x.length} parameters, the job's net has ${job.paramCount}`)
  return { x, state: { ...s, model: name } as CenterCheckpointFile, model }
}
