import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** Flatten: merges axes axis..end_axis into one; values are unchanged. */
export class FlattenLayer extends Layer {
  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(bottom: Blob[], top: Blob[]): void {
    if (top[0] === bottom[0]) throw this.setupError("does not allow in-place computation")
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const p = this.param.flatten_param
    const start = b.canonicalAxis(getOr(p, "FlattenParameter", "axis"))
    const end = b.canonicalAxis(getOr(p, "FlattenParameter", "end_axis"))
    top[0]!.reshape([...b.shape.slice(0, start), b.countRange(start, end + 1), ...b.shape.slice(end + 1)])
  }
  forward(bottom: Blob[], top: Blob[]): void {
    top[0]!.data.set(bottom[0]!.data.subarray(0, bottom[0]!.count))
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (propagateDown[0]) bottom[0]!.diff.set(top[0]!.diff.subarray(0, top[0]!.count))
  }
}
