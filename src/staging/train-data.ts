import { createHash } from "node:crypto"
import path from "node:path"
import { filterNet, readNetPrototxtSync, readSolverPrototxtSync, resolveSolverNets } from "@deepspark/caffe"
import { parseBackend, type StagingRef } from "@deepspark/data"

/**
 * Which databases a distributed worker trains on, and where their staged copies go: the Data layers of
 * the solver's train net in its TRAIN NetState (the layers a worker's training session reads a partition
 * of — test nets are evaluated by the center), and a safe file name per partition.
 */

export interface TrainDataLayer {
  /** The Data layer's name (what cursors and staged partitions are keyed by). */
  readonly layer: string
  /** data_param.source as written (Caffe resolves it from the working directory). */
  readonly source: string
  readonly backend: StagingRef["backend"]
}

/** The train net's Data layers, as createTrainingSession filters them (the solver's train_state included). */
export const trainDataLayers = (solverPath: string, cwd: string): ReadonlyArray<TrainDataLayer> => {
  const solver = readSolverPrototxtSync(path.resolve(cwd, solverPath))
  const { train } = resolveSolverNets(solver, { readNet: (f) => readNetPrototxtSync(f), cwd })
  const out: Array<TrainDataLayer> = []
  for (const layer of filterNet(train.net, train.state).layer ?? []) {
    if (layer.type !== "Data") continue
    const source = layer.data_param?.source
    const name = layer.name ?? ""
    // A layer without a source fails when the session opens it, with Caffe's message.
    if (source === undefined || source === "") continue
    let backend: StagingRef["backend"]
    try {
      backend = parseBackend(layer.data_param?.backend)
    } catch (e) {
      throw new Error(`${solverPath}: Data layer "${name}": ${(e as Error).message}`)
    }
    out.push({ layer: name, source, backend })
  }
  return out
}

/**
 * The source as the staging server resolves it: relative to the server's folder, with `/` separators.
 * An absolute path or one leaving the folder cannot be served (the server refuses it too).
 */
export const stagingSourcePath = (source: string): string => {
  if (path.isAbsolute(source) || path.win32.isAbsolute(source)) {
    throw new Error(
      `data_param.source "${source}" is an absolute path; a staging server serves databases relative to its working directory ` +
        "(give a relative source, or read the shared path directly without --stage-from)"
    )
  }
  const normal = path.posix.normalize(source.replaceAll("\\", "/")).replace(/\/+$/, "")
  if (normal === ".." || normal.startsWith("../") || normal === "." || normal === "") {
    throw new Error(`data_param.source "${source}" is not a path inside the staging server's working directory`)
  }
  return normal
}

/**
 * `<source path, flattened>-<8 hex of its SHA-256>.part-i-of-N`: one file name per partition, made of
 * `[A-Za-z0-9._-]` only, never hidden, readable (the source's path with `_` for separators), and distinct
 * for distinct sources even where flattening makes them alike (`a/b_c` vs `a_b/c`).
 */
export const stagedPartitionName = (source: string, partition: { readonly index: number; readonly count: number }): string => {
  const normal = stagingSourcePath(source)
  const flat = normal
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "")
    .slice(-80)
    .replace(/^[._-]+/, "")
  const hash = createHash("sha256").update(normal).digest("hex").slice(0, 8)
  return `${flat || "db"}-${hash}.part-${partition.index}-of-${partition.count}`
}
