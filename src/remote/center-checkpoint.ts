import { readFile } from "node:fs/promises"
import path from "node:path"
import { writeFileAtomic } from "@deepspark/caffe"
import { Effect } from "effect"
import type { CenterCheckpointState } from "../center/center-state.js"
import type { CenterJob } from "./center-job.js"

/**
 * The center's checkpoint: x̃ in the job's model format (`<prefix>_exchange_<n><ext>`, a .caffemodel for
 * Caffe jobs) plus the bookkeeping as JSON (`<prefix>_exchange_<n>.dsstate`). Both are written
 * atomically (temp file + rename), model first, so a .dsstate on disk always names a complete model.
 */

/** The .dsstate JSON: CenterState's checkpoint state plus the model file's name (beside it). */
export interface CenterCheckpointFile extends CenterCheckpointState {
  readonly model: string
}

export const checkpointPaths = (prefix: string, exchanges: number, modelExtension: string) => ({
  model: `${prefix}_exchange_${exchanges}${modelExtension}`,
  state: `${prefix}_exchange_${exchanges}.dsstate`
})

/** Writes one checkpoint; returns the model path (what center-service's Snapshot reports). */
export const writeCenterCheckpoint = async (job: CenterJob, prefix: string, x: Float32Array, state: CenterCheckpointState): Promise<string> => {
  if (!job.writeModel) throw new Error(`${job.description}: this job cannot write checkpoints`)
  const paths = checkpointPaths(prefix, state.exchanges, job.modelExtension)
  await job.writeModel(x, paths.model)
  const file: CenterCheckpointFile = { ...state, model: path.basename(paths.model) }
  await Effect.runPromise(writeFileAtomic(paths.state, `${JSON.stringify(file, null, 1)}\n`))
  return paths.model
}

export class CheckpointReadError extends Error {
  readonly _tag = "CheckpointReadError"
}

/** Reads a .dsstate and the model it names; checks the format and the parameter count. */
export const readCenterCheckpoint = async (job: CenterJob, statePath: string): Promise<{ x: Float32Array; state: CenterCheckpointFile }> => {
  let json: unknown
  try {
    json = JSON.parse(await readFile(statePath, "utf8"))
  } catch (e) {
    throw new CheckpointReadError(`${statePath}: cannot read the center state: ${(e as Error).message}`)
  }
  const s = json as Partial<CenterCheckpointFile>
  if (s?.format !== "deepspark-center/1") throw new CheckpointReadError(`${statePath}: format ${JSON.stringify(s?.format)} is not deepspark-center/1`)
  for (const field of ["version", "exchanges"] as const)
    if (!Number.isInteger(s[field]) || s[field]! < 0) throw new CheckpointReadError(`${statePath}: field "${field}" must be a non-negative integer`)
  if (!Array.isArray(s.workers)) throw new CheckpointReadError(`${statePath}: field "workers" must be an array`)
  if (typeof s.model !== "string") throw new CheckpointReadError(`${statePath}: field "model" (the model file) is missing`)
  if (!job.readModel) throw new CheckpointReadError(`${job.description}: this job cannot read checkpoints`)
  const modelPath = path.resolve(path.dirname(statePath), s.model)
  const x = await job.readModel(modelPath)
  if (x.length !== job.paramCount)
    throw new CheckpointReadError(`${modelPath}: ${x.length} parameters, the job's net has ${job.paramCount}`)
  return { x, state: s as CenterCheckpointFile }
}
