import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * Accuracy: a position is correct when at most top_k classes (the true class included) score ≥ the
 * true class's score, so ties count against. Top 0 = correct/count over non-ignored positions (0 when
 * none); optional top 1 = per-class accuracy. No backward.
 */
export class AccuracyLayer extends Layer {
  private topK = 1
  private outer = 0
  private inner = 0
  private classes = 0
  private ignoreLabel: number | undefined
  private perClassCount = new Float64Array(0)

  override exactNumBottomBlobs(): number {
    return 2
  }
  override minTopBlobs(): number {
    return 1
  }
  override maxTopBlobs(): number {
    return 2
  }
  override allowForceBackward(): boolean {
    return false
  }
  layerSetUp(): void {
    this.topK = getOr(this.param.accuracy_param, "AccuracyParameter", "top_k")
    this.ignoreLabel = this.param.accuracy_param?.ignore_label
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const axis = b.canonicalAxis(getOr(this.param.accuracy_param, "AccuracyParameter", "axis"))
    this.outer = b.countRange(0, axis)
    this.classes = b.shape[axis]!
    this.inner = b.countRange(axis + 1)
    if (this.topK > this.classes)
      throw this.setupError(`top_k (${this.topK}) must be less than or equal to the number of classes (${this.classes})`)
    if (this.outer * this.inner !== bottom[1]!.count)
      throw this.setupError(
        `number of labels must match number of predictions; e.g., if label axis == 1 and prediction shape is (N, C, H, W), label count (number of labels) must be N*H*W: got ${bottom[1]!.count} labels for predictions [${b.shape.join(", ")}]`
      )
    top[0]!.reshape([])
    if (top.length > 1) top[1]!.reshape([this.classes])
    if (this.perClassCount.length !== this.classes) this.perClassCount = new Float64Array(this.classes)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    const { outer, inner, classes } = this
    const x = bottom[0]!.data
    const labels = bottom[1]!.data
    const perClass = top.length > 1 ? top[1]!.data : undefined
    perClass?.fill(0, 0, classes)
    this.perClassCount.fill(0)
    let correct = 0
    let count = 0
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const label = labels[o * inner + k]! | 0
        if (this.ignoreLabel !== undefined && label === this.ignoreLabel) continue
        if (label < 0 || label >= classes) throw this.setupError(`label ${label} at position ${o * inner + k} is outside [0, ${classes})`)
        const trueScore = x[(o * classes + label) * inner + k]!
        let atLeast = 0
        for (let c = 0; c < classes && atLeast <= this.topK; c++) if (x[(o * classes + c) * inner + k]! >= trueScore) atLeast++
        if (atLeast <= this.topK) {
          correct++
          if (perClass) perClass[label]! += 1
        }
        count++
        this.perClassCount[label]! += 1
      }
    }
    top[0]!.data[0] = count === 0 ? 0 : correct / count
    if (perClass) for (let c = 0; c < classes; c++) perClass[c] = this.perClassCount[c] === 0 ? 0 : perClass[c]! / this.perClassCount[c]!
  }
  backward(_top: Blob[], propagateDown: boolean[]): void {
    if (propagateDown.some(Boolean)) throw this.setupError("Accuracy layer cannot backpropagate")
  }
}
