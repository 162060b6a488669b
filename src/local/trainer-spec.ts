/**
 * How to build a trainer inside a worker thread or process: plain data, so it can cross threads.
 * - "caffe": a Caffe solver prototxt trained on one partition of its data (the real thing).
 * - "softmax-problem": the simulator's synthetic problem (runtime tests with no Caffe net).
 */
export type TrainerSpec =
  | {
      readonly kind: "caffe"
      readonly solverPath: string
      readonly weights?: string
      readonly backend?: string
      readonly seed?: number
      readonly workingDirectory?: string
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
