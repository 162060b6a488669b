import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { LossLayer } from "./loss-layer.js"

/**
 * ContrastiveLoss: bottoms a (N, C, 1, 1), b (same), similarity y (N, 1, 1, 1).
 * loss = 1/(2N)·Σ [y·d² + (1−y)·max(margin − d, 0)²], d = ‖a − b‖ (margin default 1); with
 * `legacy_version` the dissimilar term is max(margin − d², 0). Gradients to a and b (opposite signs);
 * the non-legacy dissimilar gradient divides by d + 1e-4, as Caffe.
 */
export class ContrastiveLossLayer extends LossLayer {
  private diff = new Float32Array(0)
  private distSq = new Float64Array(0)

  override exactNumBottomBlobs(): number {
    return 3
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex !== 2
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const [a, b, y] = bottom as [Blob, Blob, Blob]
    if (a.channels !== b.channels) this.fail(`bottom[0] and bottom[1] must have the same channels (${a.shapeString()} vs ${b.shapeString()})`)
    for (const [blob, i] of [[a, 0], [b, 1]] as const)
      if (blob.height !== 1 || blob.width !== 1) this.fail(`bottom[${i}] must be (N, C, 1, 1), got ${blob.shapeString()}`)
    if (y.channels !== 1 || y.height !== 1 || y.width !== 1) this.fail(`bottom[2] (similarity) must be (N, 1, 1, 1), got ${y.shapeString()}`)
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    if (this.diff.length < bottom[0]!.count) this.diff = new Float32Array(bottom[0]!.count)
    if (this.distSq.length < bottom[0]!.num) this.distSq = new Float64Array(bottom[0]!.num)
  }

  private settings(): { margin: number; legacy: boolean } {
    const p = this.param.contrastive_loss_param
    return { margin: getOr(p, "ContrastiveLossParameter", "margin"), legacy: getOr(p, "ContrastiveLossParameter", "legacy_version") }
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const [a, b, y] = bottom as [Blob, Blob, Blob]
    const { margin, legacy } = this.settings()
    const C = a.channels
    let loss = 0
    for (let i = 0; i < a.count; i++) this.diff[i] = a.data[i]! - b.data[i]!
    for (let n = 0; n < a.num; n++) {
      let d2 = 0
      for (let c = 0; c < C; c++) d2 += this.diff[n * C + c]! * this.diff[n * C + c]!
      d2 = Math.fround(d2)
      this.distSq[n] = d2
      if (Math.trunc(y.data[n]!) !== 0) loss += d2
      else if (legacy) loss += Math.max(margin - d2, 0)
      else {
        const m = Math.max(margin - Math.sqrt(d2), 0)
        loss += m * m
      }
    }
    top[0]!.data[0] = loss / a.num / 2
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const { margin, legacy } = this.settings()
    const y = bottom[2]!.data
    for (let k = 0; k < 2; k++) {
      if (!propagateDown[k]) continue
      const blob = bottom[k]!
      const alpha = ((k === 0 ? 1 : -1) * top[0]!.diff[0]!) / blob.num
      const C = blob.channels
      const out = blob.diff
      for (let n = 0; n < blob.num; n++) {
        let factor: number
        if (Math.trunc(y[n]!) !== 0) factor = alpha
        else {
          const d2 = this.distSq[n]!
          let mdist: number
          if (legacy) {
            mdist = margin - d2
            factor = -alpha
          } else {
            const d = Math.sqrt(d2)
            mdist = margin - d
            factor = (-alpha * mdist) / (d + 1e-4)
          }
          if (!(mdist > 0)) factor = 0
        }
        for (let c = 0; c < C; c++) out[n * C + c] = factor * this.diff[n * C + c]!
      }
    }
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
