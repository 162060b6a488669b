/**
 * What the trainer actor needs from whatever computes: one net's parameters as one flat vector, and
 * one local iteration at a time. The engine's Solver implements it for real Caffe nets; the
 * simulator's problems implement it for fast tests. Keeping the runtime on this interface is what lets
 * it not care which backend computes.
 */
export interface LocalTrainer {
  /** Number of learnable parameter values (the center's x̃ has the same length). */
  readonly paramCount: number
  /** Copies the parameters into `out` (flattened in the net's learnable-parameter order); a device's trainer reads them back asynchronously. */
  readParams(out: Float32Array): void | Promise<void>
  /** Overwrites the parameters from `x`. */
  writeParams(x: Float32Array): void
  /**
   * Runs one local training iteration (forward, backward, update); returns its loss. A loss that is not
   * finite is returned (the iteration then need not count nor update): the trainer loop reports it.
   * A trainer on a device (`--backend gpu`) answers asynchronously.
   */
  step(): number | Promise<number>
  /** Local iteration counter (drives the solver's lr policy). */
  readonly iteration: number
  /** Sets the local iteration (when resuming). */
  setIteration(iteration: number): void
  /** The partition cursor as an opaque string, for exact resume. */
  cursor(): string | null
  /** Repositions the partition (may reopen the data sources, hence possibly async). */
  restoreCursor(cursor: string | null): void | Promise<void>
  /** Drops optimiser history (momentum) after a reset from x̃. */
  resetHistory(): void
  /**
   * Told once the center has placed this trainer (after its cursor and iteration are set): where its
   * training starts, so a trainer that keeps a log of its own starts it anew or continues it.
   */
  started?(start: { readonly incarnation: number; readonly resumeIteration: number }): void
  /**
   * Elastic runs (see center/elastic-plan.ts): the size of the training set, in records, and reading
   * the records an assignment names — [from, to) in key order, from `from`, wrapping to `from` at `to`
   * until the next assignment — with how many of them have been read since it was given.
   */
  readonly elastic?: {
    readonly records: number
    assign(range: { readonly from: number; readonly to: number }): void | Promise<void>
    read(): number
  }
}
