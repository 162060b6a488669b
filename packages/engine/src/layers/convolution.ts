import type { Blob } from "../core/blob.js"
import { BaseConvolutionLayer } from "./base-convolution.js"

/**
 * Convolution (cross-correlation) by im2col + gemm per image, with groups, or with the backend's
 * batching a group of images per GEMM for the forward and the input gradient (bit-identical); bottom i
 * → top i with shared weights.
 */
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
      if (this.groupImages > 1) {
        this.forwardGemmGrouped(b.data, this.bottomDim, w, t.data, this.topDim)
        if (this.biasTerm) for (let n = 0; n < this.num; n++) this.forwardBias(t.data, n * this.topDim, this.blobs[1]!.data)
        return
      }
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
      if (this.groupImages > 1 && propagateDown[i]) {
        // The weight gradient stays per image (its k runs over pixels: grouping would reorder its sums).
        if (this.paramPropagateDown(0)) for (let n = 0; n < this.num; n++) this.weightGemm(b.data, n * this.bottomDim, t.diff, n * this.topDim, w.diff)
        this.backwardGemmGrouped(t.diff, this.topDim, w.data, b.diff, this.bottomDim)
      } else if (this.paramPropagateDown(0) || propagateDown[i]) {
        for (let n = 0; n < this.num; n++) {
          if (this.paramPropagateDown(0)) this.weightGemm(b.data, n * this.bottomDim, t.diff, n * this.topDim, w.diff)
          if (propagateDown[i]) this.backwardGemm(t.diff, n * this.topDim, w.data, b.diff, n * this.bottomDim)
        }
      }
    })
  }
}
