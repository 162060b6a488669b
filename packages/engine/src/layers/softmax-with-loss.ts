import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import type { Blob as BlobType } from "../core/blob.js"
import { LossLayer, lossNormalizer, normalizationMode, type NormalizationMode } from "./loss-layer.js"

const FLT_MIN = 1.1754943508222875e-38

/**
 * SoftmaxWithLoss: softmax along `axis`, then the multinomial log loss of the labels
 * (−Σ log max(p_label, FLT_MIN) / normaliser), optionally ignoring one label. Top 1 (optional) is the
 * probabilities.
 */
export class SoftmaxWithLossLayer extends LossLayer {
  /** In the backend's memory: the softmax kernel writes it in place. */
  private readonly prob = new Blob([], this.ctx.backend.allocator)
  private outer = 0
  private inner = 0
  private channels = 0
  private ignoreLabel: number | undefined
  private mode: NormalizationMode = "VALID"

  override exactNumTopBlobs(): number {
    return -1
  }
  override minTopBlobs(): number {
    return 1
  }
  override maxTopBlobs(): number {
    return 2
  }
  layerSetUp(): void {
    this.ignoreLabel = this.param.loss_param?.ignore_label
    this.mode = normalizationMode(this.param.loss_param)
  }
  override reshape(bottom: BlobType[], top: BlobType[]): void {
    super.reshape(bottom, top)
    const b = bottom[0]!
    const axis = b.canonicalAxis(getOr(this.param.softmax_param, "SoftmaxParameter", "axis"))
    this.outer = b.countRange(0, axis)
    this.channels = b.shape[axis]!
    this.inner = b.countRange(axis + 1)
    if (this.outer * this.inner !== bottom[1]!.count)
      throw this.setupError(
        `number of labels must match number of predictions; e.g., if softmax axis == 1 and prediction shape is (N, C, H, W), label count (number of labels) must be N*H*W, with integer values in {0, 1, ..., C-1}: got ${bottom[1]!.count} labels for predictions [${b.shape.join(", ")}]`
      )
    this.prob.reshapeLike(b)
    if (top.length > 1) top[1]!.reshapeLike(b)
  }
  forward(bottom: BlobType[], top: BlobType[]): void {
    const { outer, inner, channels } = this
    this.ctx.backend.softmaxForward(bottom[0]!.data, this.prob.data, outer, channels, inner)
    const p = this.prob.data
    const labels = bottom[1]!.data
    let loss = 0
    let count = 0
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const label = labels[o * inner + k]! | 0
        if (this.ignoreLabel !== undefined && label === this.ignoreLabel) continue
        if (label < 0 || label >= channels) throw this.setupError(`label ${label} at position ${o * inner + k} is outside [0, ${channels})`)
        // Caffe accumulates the loss in float32.
        loss = Math.fround(loss - Math.fround(Math.log(Math.max(p[(o * channels + label) * inner + k]!, FLT_MIN))))
        count++
      }
    }
    top[0]!.data[0] = loss / lossNormalizer(this.mode, outer, inner, count)
    if (top.length > 1) top[1]!.data.set(p.subarray(0, this.prob.count))
  }
  backward(top: BlobType[], propagateDown: boolean[], bottom: BlobType[]): void {
    if (propagateDown[1]) throw this.setupError("cannot backpropagate to label inputs")
    if (!propagateDown[0]) return
    const { outer, inner, channels } = this
    const dx = bottom[0]!.diff
    const labels = bottom[1]!.data
    dx.set(this.prob.data.subarray(0, this.prob.count))
    let count = 0
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const label = labels[o * inner + k]! | 0
        if (this.ignoreLabel !== undefined && label === this.ignoreLabel) {
          for (let c = 0; c < channels; c++) dx[(o * channels + c) * inner + k] = 0
        } else {
          dx[(o * channels + label) * inner + k]! -= 1
          count++
        }
      }
    }
    const scale = top[0]!.diff[0]! / lossNormalizer(this.mode, outer, inner, count)
    for (let i = 0; i < this.prob.count; i++) dx[i] = dx[i]! * scale
  }
}
