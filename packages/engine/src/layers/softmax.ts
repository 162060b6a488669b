import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** Softmax along `axis` (max-subtracted). */
export class SoftmaxLayer extends Layer {
  private outer = 0
  private channels = 0
  private inner = 0

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(): void {}
  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const axis = b.canonicalAxis(getOr(this.param.softmax_param, "SoftmaxParameter", "axis"))
    this.outer = b.countRange(0, axis)
    this.channels = b.shape[axis]!
    this.inner = b.countRange(axis + 1)
    top[0]!.reshapeLike(b)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    this.ctx.backend.softmaxForward(bottom[0]!.data, top[0]!.data, this.outer, this.channels, this.inner)
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    // dx = (dy − Σ_c dy·y) ⊙ y
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const { outer, channels, inner } = this
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const base = o * channels * inner + k
        let s = 0
        for (let c = 0; c < channels; c++) s += dy[base + c * inner]! * y[base + c * inner]!
        for (let c = 0; c < channels; c++) dx[base + c * inner] = (dy[base + c * inner]! - s) * y[base + c * inner]!
      }
    }
  }
}
