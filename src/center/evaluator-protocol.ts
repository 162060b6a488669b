import { Schema } from "effect"

/** Messages between the center and its evaluator thread (plain structured-clone data). */
export const EvaluatorSetup = Schema.Struct({
  solverPath: Schema.String,
  cwd: Schema.String,
  backend: Schema.optionalWith(Schema.String, { exact: true }),
  /**
   * The thread's nice value (Linux: per thread). The center's tests run beside the trainers; when cores
   * are scarce a raised nice value lets the trainers keep their cores and the test fill the gaps.
   */
  niceness: Schema.optionalWith(Schema.Int, { exact: true }),
  /** The train net (the parameters' layout) reads these staged LMDBs instead of its Data layers' sources. */
  stagedData: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { exact: true })
})
export type EvaluatorSetup = typeof EvaluatorSetup.Type

export type EvaluatorRequest =
  | { readonly type: "test"; readonly id: number; readonly x: Float32Array; readonly iteration: number }
  | { readonly type: "close" }

export interface TestNetResult {
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly value: number; readonly lossWeight: number }>
}

export type EvaluatorResponse =
  | { readonly type: "ready"; readonly testNets: number; readonly niceness: number | null }
  | { readonly type: "log"; readonly line: string }
  | { readonly type: "result"; readonly id: number; readonly results: ReadonlyArray<TestNetResult> }
  | { readonly type: "error"; readonly id: number; readonly message: string }
  | { readonly type: "fatal"; readonly message: string }
