import { Schema } from "effect"
import { boundedString, MAX_ID_LENGTH, MAX_PATH_LENGTH, MAX_TOKEN_LENGTH } from "../transport/bounded-string.js"

/**
 * How to build a trainer inside a worker thread or process: plain data, so it can cross threads and
 * processes, with Schemas that decode it on the other side (workerData, a trainer child's argv JSON,
 * the cluster's Train message). Every string is bounded (../transport/bounded-string.ts).
 * - "caffe": a Caffe solver prototxt trained on one partition of its data (the real thing).
 * - "softmax-problem": the simulator's synthetic problem (runtime tests with no Caffe net).
 */
const Path = boundedString(MAX_PATH_LENGTH)

export const CaffeTrainerSpec = Schema.Struct({
  kind: Schema.Literal("caffe"),
  solverPath: Path,
  /** Fine-tuning weights (comma-separated caffemodels), applied before the first exchange. */
  weights: Schema.optionalWith(boundedString(8 * MAX_PATH_LENGTH), { exact: true }),
  /** Overrides the solver's random_seed (before the per-partition offset). */
  seed: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Engine backend name ("cpu", "reference", …). */
  backend: Schema.optionalWith(boundedString(64), { exact: true }),
  /** Folder that relative paths in the prototxts resolve against (Caffe: the working directory). */
  workingDirectory: Schema.optionalWith(Path, { exact: true }),
  /** Local optimiser override (EAMSGD runs Nesterov with its own momentum). */
  solverType: Schema.optionalWith(boundedString(64), { exact: true }),
  momentum: Schema.optionalWith(Schema.Number, { exact: true }),
  /**
   * Learning-rate scaling for N workers (Goyal et al. 2017): the solver's lr × lrScale once the
   * worker's local iteration reaches lrWarmup, ramped linearly from × 1 before.
   */
  lrScale: Schema.optionalWith(Schema.Number, { exact: true }),
  lrWarmup: Schema.optionalWith(Schema.Int, { exact: true }),
  /** Print the worker's Caffe log lines (prefixed with its id) to stderr. */
  verbose: Schema.optionalWith(Schema.Boolean, { exact: true }),
  /**
   * Write the worker's Caffe log (glog lines, as `caffe train` writes them) to this file, relative to
   * workingDirectory: started anew when the worker starts at iteration 0, continued when it resumes.
   * Caffe's tools/extra/parse_log.py reads it as it reads a `caffe train` log.
   */
  logFile: Schema.optionalWith(Path, { exact: true }),
  /**
   * Train-net Data layers whose partition was staged to this worker's disk (layer name → LMDB path,
   * relative to workingDirectory): read instead of the layer's source, with the same cursors.
   */
  stagedData: Schema.optionalWith(Schema.Record({ key: boundedString(MAX_ID_LENGTH), value: Path }), { exact: true })
})

export const SoftmaxProblemTrainerSpec = Schema.Struct({
  kind: Schema.Literal("softmax-problem"),
  problemSeed: Schema.Number,
  seed: Schema.Number,
  /** Simulated compute time per iteration (the thread sleeps), so runs last long enough to change. */
  iterationMs: Schema.optionalWith(Schema.Number, { exact: true })
})

export const TrainerSpec = Schema.Union(CaffeTrainerSpec, SoftmaxProblemTrainerSpec)
export type TrainerSpec = typeof TrainerSpec.Type

export const WorkerAssignment = Schema.Struct({
  workerId: boundedString(MAX_ID_LENGTH),
  token: boundedString(MAX_TOKEN_LENGTH),
  partition: Schema.Struct({ index: Schema.Int, count: Schema.Int }),
  period: Schema.Int,
  maxIter: Schema.Int,
  adaptivePeriod: Schema.Boolean,
  /** Train on while an exchange is in flight (downpour, async-diloco; TrainerLoopOptions.overlapExchange). */
  overlapExchange: Schema.optionalWith(Schema.Boolean, { exact: true }),
  spec: TrainerSpec,
  /** Join a running job: an elastic center assigns this worker's records (its partition is ignored). */
  join: Schema.optionalWith(Schema.Boolean, { exact: true }),
  /** Test hook: the worker crashes (throws) once it reaches this local iteration. */
  crashAtIteration: Schema.optionalWith(Schema.Int, { exact: true })
})
export type WorkerAssignment = typeof WorkerAssignment.Type
