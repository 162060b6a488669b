import type { NetParameter } from "@deepspark/caffe"
import type { Backend } from "../backend/backend.js"
import type { LearnableParam } from "../solvers/learnable-param.js"
import type { SolverBase } from "../solvers/solver-base.js"

/** One net output blob as the solver prints it (`Train net output #k: name = v (* w = w·v loss)`). */
export interface NetOutputView {
  readonly name: string
  /** The output's values (count elements), read after a forward pass. */
  readonly values: () => ArrayLike<number>
  /** The blob's loss weight (0 for non-loss outputs such as accuracy). */
  readonly lossWeight: number
}

/**
 * What the training loop needs from a net (the engine Net, adapted by ./net-adapter.ts). Kept narrow so
 * the loop is testable with small hand-written nets and usable by the distributed runtime.
 */
export interface SolverNet {
  readonly name: string
  /** The kernels the net runs on, when it has any: the solver keeps its history there and may use their update kernels. */
  readonly backend?: Backend
  /** Set when the net's tensors live on a device: the solver awaits these instead of the synchronous forms. */
  readonly device?: DeviceSolverNet
  /** Forward pass; returns the weighted loss. */
  forward(): number
  /** Forward then backward (accumulating parameter gradients); returns the loss. */
  forwardBackward(): number
  clearParamDiffs(): void
  learnableParams(): ReadonlyArray<LearnableParam>
  /** Output blobs in Caffe's order (sorted by name). */
  outputs(): ReadonlyArray<NetOutputView>
  /** Makes this (test) net use `source`'s parameter storage, matched by layer name. */
  shareTrainedLayersWith(source: SolverNet): void
  /** Copies parameters by layer name; `file` is named in errors and logs. */
  copyTrainedLayersFrom(weights: NetParameter, file?: string): void
  /** The net with its current parameters (Caffe's Net::ToProto). */
  toProto(writeDiff: boolean): NetParameter
}

/**
 * A net whose blobs, parameters and solver history live on a device (the gpu backend's resident path).
 * Its passes are asynchronous (only the scalar outputs come back), so a solver over it runs through
 * `solveAsync` / `stepAsync`; the synchronous `forward`/`forwardBackward` of its SolverNet refuse.
 */
export interface DeviceSolverNet {
  /** Forward over the next batch; reads back only the scalar outputs (what `outputs()` then shows). */
  forward(): Promise<number>
  /** Forward and backward, the parameter diffs accumulating on the device; reads back only the scalar outputs. */
  forwardBackward(): Promise<number>
  /** Records `updater`'s update (its type and settings) of every parameter at `rate` on the device. */
  applyUpdate(updater: SolverBase, rate: number, iteration: number): void
  /** Copies the parameters (with `withDiffs`, their diffs too) into the host net and the solver history into `updater` (before a snapshot). */
  syncToHost(updater: SolverBase, withDiffs: boolean): Promise<void>
}
