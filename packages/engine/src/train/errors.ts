/** The training loss became NaN or ±Inf: training stops before the update (no snapshot written). */
export class NonFiniteLossError extends Error {
  readonly _tag = "NonFiniteLossError"
  constructor(
    readonly iteration: number,
    readonly loss: number,
    readonly netName: string
  ) {
    super(
      `Iteration ${iteration}: the training loss of net "${netName}" is ${Number.isNaN(loss) ? "NaN" : loss > 0 ? "inf" : "-inf"}; ` +
        `training stopped before updating the weights (lower base_lr or check the input data)`
    )
    this.name = "NonFiniteLossError"
  }
}

/** A snapshot cannot be written as configured (HDF5 format, missing prefix, unwritable directory). */
export class SnapshotError extends Error {
  readonly _tag = "SnapshotError"
  constructor(readonly detail: string) {
    super(detail)
    this.name = "SnapshotError"
  }
}
