import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { LossLayer } from "./loss-layer.js"

/**
 * HingeLoss (one-vs-all): scores x (N × dim), labels l (N). With t_{n,k} = max(0, 1 + δ·x_{n,k}),
 * δ = −1 for the true class and +1 otherwise: L1 (default) loss = Σt/N, L2 loss = Σt²/N.
 * Gradients δ·sign(t)·w/N (L1) and 2δ·t·w/N (L2). Caffe keeps t in bottom[0]'s diff between forward
 * and backward; here it has its own buffer.
 */
export class HingeLossLayer extends LossLayer {
  private margins = new Float32Array(0)

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    if (this.margins.length < bottom[0]!.count) this.margins = new Float32Array(bottom[0]!.count)
  }

  private label(bottom: Blob[], n: number, dim: number): number {
    const l = Math.trunc(bottom[1]!.data[n]!)
    if (l < 0 || l >= dim) this.fail(`label ${bottom[1]!.data[n]} of item ${n} is outside [0, ${dim})`)
    return l
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const num = bottom[0]!.num
    const count = bottom[0]!.count
    const dim = count / num
    const t = this.margins
    for (let n = 0; n < num; n++) {
      const l = this.label(bottom, n, dim)
      for (let k = 0; k < dim; k++) {
        const v = k === l ? -x[n * dim + k]! : x[n * dim + k]!
        t[n * dim + k] = Math.max(0, 1 + v)
      }
    }
    let s = 0
    const l2 = getOr(this.param.hinge_loss_param, "HingeLossParameter", "norm") === "L2"
    for (let i = 0; i < count; i++) s += l2 ? t[i]! * t[i]! : Math.abs(t[i]!)
    top[0]!.data[0] = Math.fround(s) / num
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    this.refuseBackwardTo(propagateDown, 1, "label inputs")
    if (!propagateDown[0]) return
    const num = bottom[0]!.num
    const count = bottom[0]!.count
    const dim = count / num
    const dx = bottom[0]!.diff
    const w = top[0]!.diff[0]!
    const l2 = getOr(this.param.hinge_loss_param, "HingeLossParameter", "norm") === "L2"
    for (let n = 0; n < num; n++) {
      const l = this.label(bottom, n, dim)
      for (let k = 0; k < dim; k++) {
        const i = n * dim + k
        const v = k === l ? -this.margins[i]! : this.margins[i]!
        dx[i] = l2 ? (v * w * 2) / num : (Math.sign(v) * w) / num
      }
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
