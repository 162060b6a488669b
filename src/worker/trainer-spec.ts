/**
 * How to build a trainer inside a worker thread or process: plain data, so it can cross threads.
 * - "caffe": a Caffe solver prototxt trained on one partition of its data (the real thing).
 * - "softmax-problem": the simulator's synthetic problem (runtime tests with no Caffe net).
 */
export type TrainerSpec =
  | {
      readonly kind: "caffe"
      readonly solverPath: string
      /** Fine-tuning weights (comma-separated caffemodels), applied before the first exchange. */
      readonly weights?: string
      /** Overrides the solver's random_seed (before the per-partition offset). */
      readonly seed?: number
      /** Engine backend name ("cpu", "reference", …). */
      readonly backend?: string
      /** Folder that relative paths in the prototxts resolve against (Caffe: the working directory). */
      readonly workingDirectory?: string
      /** Local optimiser override (EAMSGD runs Nesterov with its own momentum). */
      readonly solverType?: string
      readonly momentum?: number
      /**
       * Learning-rate scaling for N workers (Goyal et al. 2017): the solver's lr × lrScale once the
       * worker's local iteration reaches lrWarmup, ramped linearly from × 1 before.
       */
      readonly lrScale?: number
      readonly lrWarmup?: number
      /** Print the worker's Caffe log lines (prefixed with its id) to stderr. */
      readonly verbose?: boolean
      /**
       * Train-net Data layers whose partition was staged to this worker's disk (layer name → LMDB path,
       * relative to workingDirectory): read instead of the layer's source, with the same cursors.
       */
      readonly stagedData?: Readonly<Record<string, string>>
    }
  | { readonly kind: "softmax-problem"; readonly problemSeed: number; readonly seed: number }

export interface WorkerAssignment {
  readonly workerId: string
  readonly token: string
  readonly partition: { readonly index: number; readonly count: number }
  readonly period: number
  readonly maxIter: number
  readonly adaptivePeriod: boolean
  readonly spec: TrainerSpec
  /** Test hook: the worker crashes (throws) once it reaches this local iteration. */
  readonly crashAtIteration?: number
}
