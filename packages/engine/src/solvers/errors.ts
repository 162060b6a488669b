/** A solver parameter Caffe would reject (its CHECKs / LOG(FATAL)s); names the field. */
export class SolverConfigError extends Error {
  readonly _tag = "SolverConfigError"
  constructor(
    readonly field: string,
    readonly detail: string
  ) {
    super(`solver parameter ${field}: ${detail}`)
    this.name = "SolverConfigError"
  }
}

/** A .solverstate whose history does not fit the net being trained. */
export class SolverStateError extends Error {
  readonly _tag = "SolverStateError"
  constructor(readonly detail: string) {
    super(detail)
    this.name = "SolverStateError"
  }
}
