import type { LossParameter_NormalizationMode } from "@deepspark/caffe"
import { blobData, blobShape, getOr, readBinaryprotoSync } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { LossLayer, lossNormalizer, normalizationMode } from "./loss-layer.js"
import { LOG_THRESHOLD } from "./multinomial-logistic-loss.js"

/**
 * InfogainLoss (Caffe master): softmax of bottom[0] along infogain_loss_param.axis (default 1), then
 * loss = −Σ_{positions} Σ_l H[label, l]·log(max(p_l, 1e-20)) / normaliser, with H (L×L, L = classes)
 * from bottom[2] or the BlobProto file infogain_loss_param.source. loss_param.ignore_label skips
 * positions; normalization default VALID (the deprecated `normalize` is rejected, as in Caffe).
 * Gradient (p_l·Σ_k H[label, k] − H[label, l])·w/normaliser. An optional second top receives the
 * softmax probabilities.
 */
export class InfogainLossLayer extends LossLayer {
  private mode: LossParameter_NormalizationMode = "VALID"
  private ignoreLabel: number | undefined
  private fileH: Blob | undefined
  /** In the backend's memory: the softmax kernel writes it in place. */
  private prob = new Blob([], this.ctx.backend.allocator)
  private outer = 1
  private inner = 1
  private labels = 1

  override minBottomBlobs(): number {
    return 2
  }
  override maxBottomBlobs(): number {
    return 3
  }
  override exactNumBottomBlobs(): number {
    return -1
  }
  override minTopBlobs(): number {
    return 1
  }
  override maxTopBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return -1
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex === 0
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const lp = this.param.loss_param
    this.ignoreLabel = lp?.ignore_label
    if (lp?.normalize !== undefined) this.fail('loss_param.normalize is deprecated; use "normalization"')
    this.mode = normalizationMode(lp, "VALID")
    if (bottom.length < 3) {
      const source = this.param.infogain_loss_param?.source
      if (source === undefined) this.fail("infogain matrix source must be specified (infogain_loss_param.source) when there is no third bottom")
      try {
        const proto = readBinaryprotoSync(source)
        this.fileH = new Blob(blobShape(proto))
        this.fileH.data.set(blobData(proto))
      } catch (e) {
        this.fail(`cannot read the infogain matrix ${source}: ${(e as Error).message}`)
      }
    }
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    const b = bottom[0]!
    let axis: number
    try {
      axis = b.canonicalAxis(getOr(this.param.infogain_loss_param, "InfogainLossParameter", "axis"))
    } catch (e) {
      this.fail((e as Error).message)
    }
    this.outer = b.countRange(0, axis)
    this.inner = b.countRange(axis + 1)
    this.labels = b.shape[axis]!
    if (this.outer * this.inner !== bottom[1]!.count)
      this.fail(
        `number of labels (${bottom[1]!.count}) must match number of predictions (${this.outer * this.inner}); e.g. if the axis is 1 and the prediction shape is (N, C, H, W), the label count must be N·H·W`
      )
    const h = this.matrix(bottom)
    if (h.count !== this.labels * this.labels) this.fail(`H must be ${this.labels}×${this.labels}, got ${h.shapeString()}`)
    this.prob.reshapeLike(b)
    if (top.length > 1) top[1]!.reshapeLike(b)
  }

  private matrix(bottom: Blob[]): Blob {
    return bottom.length > 2 ? bottom[2]! : this.fileH!
  }

  private label(bottom: Blob[], i: number): number | undefined {
    const l = Math.trunc(bottom[1]!.data[i]!)
    if (this.ignoreLabel !== undefined && l === this.ignoreLabel) return undefined
    if (l < 0 || l >= this.labels) this.fail(`label ${bottom[1]!.data[i]} at position ${i} is outside [0, ${this.labels})`)
    return l
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const { outer, inner, labels } = this
    this.ctx.backend.softmaxForward(bottom[0]!.data, this.prob.data, outer, labels, inner)
    const p = this.prob.data
    const h = this.matrix(bottom).data
    let loss = 0
    let count = 0
    for (let i = 0; i < outer; i++)
      for (let j = 0; j < inner; j++) {
        const l = this.label(bottom, i * inner + j)
        if (l === undefined) continue
        for (let k = 0; k < labels; k++) loss -= h[l * labels + k]! * Math.log(Math.max(p[(i * labels + k) * inner + j]!, LOG_THRESHOLD))
        count++
      }
    top[0]!.data[0] = loss / lossNormalizer(this.mode, outer, inner, count)
    if (top.length > 1) top[1]!.shareData(this.prob)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    this.refuseBackwardTo(propagateDown, 1, "label inputs")
    this.refuseBackwardTo(propagateDown, 2, "infogain inputs")
    if (!propagateDown[0]) return
    const { outer, inner, labels } = this
    const p = this.prob.data
    const h = this.matrix(bottom).data
    const dx = bottom[0]!.diff
    const rowSums = new Float64Array(labels)
    for (let r = 0; r < labels; r++) for (let c = 0; c < labels; c++) rowSums[r] = rowSums[r]! + h[r * labels + c]!
    let count = 0
    for (let i = 0; i < outer; i++)
      for (let j = 0; j < inner; j++) {
        const l = this.label(bottom, i * inner + j)
        for (let k = 0; k < labels; k++) {
          const at = (i * labels + k) * inner + j
          dx[at] = l === undefined ? 0 : p[at]! * rowSums[l]! - h[l * labels + k]!
        }
        if (l !== undefined) count++
      }
    const scale = top[0]!.diff[0]! / lossNormalizer(this.mode, outer, inner, count)
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = dx[i]! * scale
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }

  /** Caffe's LOG(FATAL) when a gradient is requested for a label / index input. */
  private refuseBackwardTo(propagateDown: boolean[], index: number, what: string): void {
    if (propagateDown[index]) this.fail(`cannot backpropagate to ${what} (bottom[${index}])`)
  }
}
