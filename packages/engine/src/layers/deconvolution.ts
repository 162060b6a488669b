import type { Blob } from "../core/blob.js"
import { BaseConvolutionLayer } from "./base-convolution.js"

/** Deconvolution (transposed convolution): the convolution's backward data pass as forward. Weights (in, out/group, kh, kw). */
export class DeconvolutionLayer extends BaseConvolutionLayer {
  protected reverseDimensions(): boolean {
    return true
  }
  protected outputSize(input: number, axis: 0 | 1): number {
    const extent = this.dilation[axis] * (this.kernel[axis] - 1) + 1
    return this.stride[axis] * (input - 1) + extent - 2 * this.pad[axis]
  }
  forward(bottom: Blob[], top: Blob[]): void {
    const w = this.blobs[0]!.data
    bottom.forEach((b, i) => {
      const t = top[i]!
      if (this.groupImages > 1) {
        this.backwardGemmGrouped(b.data, this.bottomDim, w, t.data, this.topDim)
        if (this.biasTerm) for (let n = 0; n < this.num; n++) this.forwardBias(t.data, n * this.topDim, this.blobs[1]!.data)
        return
      }
      for (let n = 0; n < this.num; n++) {
        this.backwardGemm(b.data, n * this.bottomDim, w, t.data, n * this.topDim)
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
        // Weight gradient per image (as Caffe sums it), then the bottom gradient a group per GEMM.
        if (this.paramPropagateDown(0)) for (let n = 0; n < this.num; n++) this.weightGemm(t.diff, n * this.topDim, b.data, n * this.bottomDim, w.diff)
        this.forwardGemmGrouped(t.diff, this.topDim, w.data, b.diff, this.bottomDim)
      } else if (this.paramPropagateDown(0) || propagateDown[i]) {
        for (let n = 0; n < this.num; n++) {
          // The weight gradient's im2col of the top diff is reused by the bottom gradient.
          if (this.paramPropagateDown(0)) this.weightGemm(t.diff, n * this.topDim, b.data, n * this.bottomDim, w.diff)
          if (propagateDown[i]) this.forwardGemm(t.diff, n * this.topDim, w.data, b.diff, n * this.bottomDim, this.paramPropagateDown(0))
        }
      }
    })
  }
}
