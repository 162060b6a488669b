import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** ReLU: y = max(x,0) + negative_slope·min(x,0); in place allowed. */
export class ReLULayer extends Layer {
  private slope = 0

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(): void {
    this.slope = getOr(this.param.relu_param, "ReLUParameter", "negative_slope")
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    top[0]!.reshapeLike(bottom[0]!)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    this.ctx.backend.reluForward(bottom[0]!.data, top[0]!.data, bottom[0]!.count, this.slope)
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    this.ctx.backend.reluBackward(bottom[0]!.data, top[0]!.diff, bottom[0]!.diff, bottom[0]!.count, this.slope)
  }
}
