import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { LossLayer } from "./loss-layer.js"

/** Caffe's kLOG_THRESHOLD: probabilities are clamped from below before the log. */
export const LOG_THRESHOLD = 1e-20

/**
 * MultinomialLogisticLoss: bottoms probabilities p (N × dim) and labels (N, 1, 1, 1).
 * loss = −Σ log(max(p_{n,label}, 1e-20)) / N; gradient −w/(N·max(p, 1e-20)) at the label, 0 elsewhere.
 */
export class MultinomialLogisticLossLayer extends LossLayer {
  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    const l = bottom[1]!
    if (l.channels !== 1 || l.height !== 1 || l.width !== 1) this.fail(`labels must be (N, 1, 1, 1), got ${l.shapeString()}`)
  }

  private label(bottom: Blob[], n: number, dim: number): number {
    const l = Math.trunc(bottom[1]!.data[n]!)
    if (l < 0 || l >= dim) this.fail(`label ${bottom[1]!.data[n]} of item ${n} is outside [0, ${dim})`)
    return l
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const p = bottom[0]!.data
    const num = bottom[0]!.num
    const dim = bottom[0]!.count / num
    let loss = 0
    for (let n = 0; n < num; n++) loss -= Math.log(Math.max(p[n * dim + this.label(bottom, n, dim)]!, LOG_THRESHOLD))
    top[0]!.data[0] = loss / num
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    this.refuseBackwardTo(propagateDown, 1, "label inputs")
    if (!propagateDown[0]) return
    const p = bottom[0]!.data
    const num = bottom[0]!.num
    const dim = bottom[0]!.count / num
    bottom[0]!.zeroDiff()
    const scale = -top[0]!.diff[0]! / num
    for (let n = 0; n < num; n++) {
      const i = n * dim + this.label(bottom, n, dim)
      bottom[0]!.diff[i] = scale / Math.max(p[i]!, LOG_THRESHOLD)
    }
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }

  /** Caffe's LOG(FATAL) when a gradient is requested for a label / index input. */
  private refuseBackwardTo(propagateDown: boolean[], index: number, what: string): void {
    if (propagateDown[index]) this.fail(`cannot backpropagate to ${what} (bottom[${index}])`)
  }
}
