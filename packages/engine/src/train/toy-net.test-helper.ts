import type { NetParameter } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import type { LearnableParam } from "../solvers/learnable-param.js"
import type { NetOutputView, SolverNet } from "./solver-net.js"

/**
 * A tiny net for exercising the training loop: one parameter w (2 values, lr_mult 1) and a data layer
 * cycling through fixed targets t; loss = ½‖w − t‖² (weight 1), plus a non-loss output `err` = |w0 − t0|.
 * Its gradient is w − t, so every number in a log can be checked by hand.
 */
export class ToyNet implements SolverNet {
  readonly name = "Toy"
  weights = new Blob([2])
  private cursor = 0
  private lastLoss = 0
  private lastErr = 0
  forwards = 0

  constructor(
    private readonly targets: ReadonlyArray<readonly [number, number]>,
    init: readonly [number, number] = [0, 0],
    private readonly poison: number | undefined = undefined
  ) {
    this.weights.data.set(init)
  }

  forward(): number {
    const t = this.targets[this.cursor % this.targets.length]!
    this.cursor++
    this.forwards++
    const w = this.weights.data
    const d0 = w[0]! - t[0]
    const d1 = w[1]! - t[1]
    this.lastLoss = Math.fround(0.5 * (d0 * d0 + d1 * d1))
    if (this.poison !== undefined && this.forwards > this.poison) this.lastLoss = NaN
    this.lastErr = Math.fround(Math.abs(d0))
    this.pending = [d0, d1]
    return this.lastLoss
  }
  private pending: [number, number] = [0, 0]

  forwardBackward(): number {
    const loss = this.forward()
    this.weights.diff[0] = Math.fround(this.weights.diff[0]! + this.pending[0])
    this.weights.diff[1] = Math.fround(this.weights.diff[1]! + this.pending[1])
    return loss
  }

  clearParamDiffs(): void {
    this.weights.zeroDiff()
  }

  learnableParams(): ReadonlyArray<LearnableParam> {
    return [{ blob: this.weights, lrMult: 1, decayMult: 1, layerName: "w", name: "w" }]
  }

  outputs(): ReadonlyArray<NetOutputView> {
    return [
      { name: "err", values: () => [this.lastErr], lossWeight: 0 },
      { name: "loss", values: () => [this.lastLoss], lossWeight: 1 }
    ]
  }

  shareTrainedLayersWith(source: SolverNet): void {
    if (!(source instanceof ToyNet)) throw new Error("ToyNet shares only with a ToyNet")
    this.weights = source.weights
  }

  copyTrainedLayersFrom(weights: NetParameter): void {
    const data = weights.layer?.[0]?.blobs?.[0]?.data
    if (!data || data.length !== 2) throw new Error("ToyNet: bad weights")
    this.weights.data.set(data)
  }

  toProto(): NetParameter {
    return { name: this.name, layer: [{ name: "w", type: "Toy", blobs: [{ shape: { dim: [2] }, data: this.weights.data.slice(0, 2) }] }] }
  }
}
