import type { Blob } from "../core/blob.js"
import { BaseConvolutionLayer } from "./base-convolution.js"

/** Convolution (cross-correlation) by im2col + gemm per image, with groups; bottom i → top i with shared weights. */
export class ConvolutionLayer extends BaseConvolutionLayer {
  protected reverseDimensions(): boolean {
    return false
  }
  protected outputSize(input: number, axis: 0 | 1): number {
    const extent = this.dilation[axis] * (this.kernel[axis] - 1) + 1
    return Math.floor((input + 2 * this.pad[axis] - extent) / this.stride[axis]) + 1
  }
  forward(bottom: Blob[], top: Blob[]): void {
    const w = this.blobs[0]!.data
    bottom.forEach((b, i) => {
      const t = top[i]!
      for (let n = 0; n < this.num; n++) {
        this.forwardGemm(b.data, n * this.bottomDim, w, t.data, n * this.topDim)
        if (this.biasTerm) this.forwardBias(t.data, n * this.topDim, this.blobs[1]!.data)
      }
    })
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const w = this.blobs[0]!
    top.forEach((t, i) => {
      const b = bottom[i]!
      if (this.biasTerm && this.paramPropagateDown(1))
        for (let n = 0; n < this.num; n++) this.biasGemm(this.blobs[1]!.diff, t.diff, n * this.topDim)
      if (this.paramPropagateDown(0) || propagateDown[i]) {
        for (let n = 0; n < this.num; n++) {
          if (this.paramPropagateDown(0)) this.weightGemm(b.data, n * this.bottomDim, t.diff, n * this.topDim, w.diff)
          if (propagateDown[i]) this.backwardGemm(t.diff, n * this.topDim, w.data, b.diff, n * this.bottomDim)
        }
      }
    })
  }
}
