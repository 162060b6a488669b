import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * Dropout (inverted): in TRAIN each element is kept with probability 1 − ratio and scaled by
 * 1/(1 − ratio); backward applies the same mask and scale. TEST is the identity.
 */
export class DropoutLayer extends Layer {
  private ratio = 0.5
  private scale = 2
  private mask = new Uint8Array(0)

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(): void {
    this.ratio = getOr(this.param.dropout_param, "DropoutParameter", "dropout_ratio")
    if (!(this.ratio >= 0 && this.ratio < 1)) throw this.setupError(`dropout_ratio must be in [0, 1), got ${this.ratio}`)
    this.scale = Math.fround(1 / (1 - this.ratio))
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    top[0]!.reshapeLike(bottom[0]!)
    if (this.mask.length < bottom[0]!.count) this.mask = new Uint8Array(bottom[0]!.count)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    const n = bottom[0]!.count
    const x = bottom[0]!.data
    const y = top[0]!.data
    if (this.ctx.phase === "TRAIN") {
      const keep = 1 - this.ratio
      for (let i = 0; i < n; i++) {
        const m = this.ctx.rng.bernoulli(keep) ? 1 : 0
        this.mask[i] = m
        y[i] = x[i]! * m * this.scale
      }
    } else if (x !== y) y.set(x.subarray(0, n))
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const n = bottom[0]!.count
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    if (this.ctx.phase === "TRAIN") for (let i = 0; i < n; i++) dx[i] = dy[i]! * this.mask[i]! * this.scale
    else if (dx !== dy) dx.set(dy.subarray(0, n))
  }
}
