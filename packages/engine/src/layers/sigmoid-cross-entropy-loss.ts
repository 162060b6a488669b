import type { LossParameter_NormalizationMode } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { LossLayer, lossNormalizer, normalizationMode } from "./loss-layer.js"
import { sigmoid } from "./sigmoid.js"

/**
 * SigmoidCrossEntropyLoss: bottoms (logits x, targets t of the same count). Stable form
 * loss = −Σ [x(t − 1{x≥0}) − log(1 + e^{x − 2x·1{x≥0}})] / normaliser, skipping targets equal to
 * loss_param.ignore_label; normalization default BATCH_SIZE (unless `normalize` says otherwise).
 * Gradient (σ(x) − t)·weight/normaliser, 0 at ignored targets.
 */
export class SigmoidCrossEntropyLossLayer extends LossLayer {
  private mode: LossParameter_NormalizationMode = "BATCH_SIZE"
  private ignoreLabel: number | undefined
  private normalizer = 1

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const lp = this.param.loss_param
    this.ignoreLabel = lp?.ignore_label
    this.mode = normalizationMode(lp, "BATCH_SIZE")
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    if (bottom[0]!.count !== bottom[1]!.count)
      this.fail(`inputs must have the same count (bottom[0] ${bottom[0]!.shapeString()}, bottom[1] ${bottom[1]!.shapeString()})`)
  }

  private ignored(target: number): boolean {
    return this.ignoreLabel !== undefined && Math.trunc(target) === this.ignoreLabel
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const t = bottom[1]!.data
    let loss = 0
    let valid = 0
    for (let i = 0; i < bottom[0]!.count; i++) {
      if (this.ignored(t[i]!)) continue
      const v = x[i]!
      const pos = v >= 0 ? 1 : 0
      loss -= v * (t[i]! - pos) - Math.log(1 + Math.exp(v - 2 * v * pos))
      valid++
    }
    const outer = bottom[0]!.numAxes === 0 ? 1 : bottom[0]!.shape[0]!
    this.normalizer = lossNormalizer(this.mode, outer, bottom[0]!.count / Math.max(outer, 1), valid)
    top[0]!.data[0] = loss / this.normalizer
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    this.refuseBackwardTo(propagateDown, 1, "label inputs")
    if (!propagateDown[0]) return
    const x = bottom[0]!.data
    const t = bottom[1]!.data
    const dx = bottom[0]!.diff
    const scale = top[0]!.diff[0]! / this.normalizer
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = this.ignored(t[i]!) ? 0 : (sigmoid(x[i]!) - t[i]!) * scale
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }

  /** Caffe's LOG(FATAL) when a gradient is requested for a label / index input. */
  private refuseBackwardTo(propagateDown: boolean[], index: number, what: string): void {
    if (propagateDown[index]) this.fail(`cannot backpropagate to ${what} (bottom[${index}])`)
  }
}
