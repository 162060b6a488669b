import type { CenterEvaluation } from "./center-service.js"

/**
 * What a center serves, independent of how parameters are computed: the seam between the center's
 * runtimes (`deepspark center`'s runCenter, the driver's runDistributedTrain) and a concrete model.
 * The Caffe job (./caffe-job.ts: x̃ in a solver's train-net layout, `.caffemodel` files)
 * implements it, and so does the simulator's softmax problem (../simulator/synthetic-center-job.ts: tests, benchmarks).
 */
export interface CenterJob {
  /** Shown in the center's log. */
  readonly description: string
  /** Length of the flat parameter vector x̃. */
  readonly paramCount: number
  /** x̃ before any exchange (a fresh net's fillers, or --weights). */
  initialParams(): Float32Array
  /** Tests x̃ (Caffe's test nets); absent = the job itself never tests. */
  evaluate?(x: Float32Array, exchanges: number): Promise<CenterEvaluation>
  /** File extension of the model files this job writes (".caffemodel" for Caffe jobs). */
  readonly modelExtension: string
  /** Writes x̃ to `file` atomically (temp file + rename); absent = no checkpoints. */
  writeModel?(x: Float32Array, file: string): Promise<void>
  /** Reads x̃ back from a file writeModel wrote (for --resume). */
  readModel?(file: string): Promise<Float32Array>
  /** Where checkpoints go when no prefix is given (Caffe: the solver's snapshot_prefix). */
  readonly defaultCheckpointPrefix?: string
  /**
   * Releases what the job holds open (the Caffe job's evaluator thread); whoever opened the job calls
   * it once the run is over, however it ended: a thread left running keeps the process alive.
   */
  close?(): Promise<void>
}
