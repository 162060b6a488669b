import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import type { ConvGeometry } from "../backend/backend.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Im2col: the convolution_param's patch matrix as a blob, through the backend's im2col / col2im.
 * Channel axis = convolution_param.axis (default 1), followed by exactly 2 spatial axes (Caffe's N-D
 * im2col is not supported). kernel_size / pad / stride / dilation given once or per axis, or as
 * kernel_h/_w etc. (not both). Top: channels·kh·kw at the channel axis, then the output size
 * (in + 2p − (d(k−1)+1))/s + 1 per spatial axis. Backward is col2im (overlaps sum).
 */
export class Im2colLayer extends Layer {
  private channelAxis = 1
  private kernel: [number, number] = [1, 1]
  private stride: [number, number] = [1, 1]
  private pad: [number, number] = [0, 0]
  private dilation: [number, number] = [1, 1]
  private geometry: ConvGeometry | undefined
  private num = 1

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const p = this.param.convolution_param ?? {}
    const b = bottom[0]!
    try {
      this.channelAxis = b.canonicalAxis(getOr(p, "ConvolutionParameter", "axis"))
    } catch (e) {
      this.fail((e as Error).message)
    }
    const spatial = b.numAxes - this.channelAxis - 1
    if (spatial !== 2) this.fail(`only 2 spatial axes are supported (N-D im2col is not), got ${spatial} after channel axis ${this.channelAxis} of ${b.shapeString()}`)
    const pair = (name: string, list: number[] | undefined, h: number | undefined, w: number | undefined, fallback: number | undefined): [number, number] => {
      if (h !== undefined || w !== undefined) {
        if ((list?.length ?? 0) > 0) this.fail(`either ${name} or ${name}_h/w should be specified; not both`)
        if (h === undefined || w === undefined) this.fail(`${name}_h and ${name}_w must be given together`)
        return [h, w]
      }
      const n = list?.length ?? 0
      if (n === 0) {
        if (fallback === undefined) this.fail(`${name} must be specified`)
        return [fallback, fallback]
      }
      if (n !== 1 && n !== 2) this.fail(`${name} must be specified once, or once per spatial dimension (${name} specified ${n} times; 2 spatial dims)`)
      return [list![0]!, list![n === 1 ? 0 : 1]!]
    }
    this.kernel = pair("kernel", p.kernel_size, p.kernel_h, p.kernel_w, undefined)
    if (!(this.kernel[0] > 0 && this.kernel[1] > 0)) this.fail("filter dimensions must be nonzero")
    this.stride = pair("stride", p.stride, p.stride_h, p.stride_w, 1)
    if (!(this.stride[0] > 0 && this.stride[1] > 0)) this.fail("stride dimensions must be nonzero")
    this.pad = pair("pad", p.pad, p.pad_h, p.pad_w, 0)
    const d = p.dilation ?? []
    if (d.length > 2) this.fail(`dilation must be specified once, or once per spatial dimension (dilation specified ${d.length} times; 2 spatial dims)`)
    this.dilation = d.length === 0 ? [1, 1] : [d[0]!, d[d.length === 1 ? 0 : 1]!]
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const a = this.channelAxis
    const [channels, height, width] = [b.shape[a]!, b.shape[a + 1]!, b.shape[a + 2]!]
    const out = (size: number, i: 0 | 1) => Math.floor((size + 2 * this.pad[i] - (this.dilation[i] * (this.kernel[i] - 1) + 1)) / this.stride[i]) + 1
    const outH = out(height, 0)
    const outW = out(width, 1)
    if (outH <= 0 || outW <= 0) this.fail(`kernel larger than the padded input ${b.shapeString()}`)
    this.geometry = {
      channels,
      height,
      width,
      kernelH: this.kernel[0],
      kernelW: this.kernel[1],
      padH: this.pad[0],
      padW: this.pad[1],
      strideH: this.stride[0],
      strideW: this.stride[1],
      dilationH: this.dilation[0],
      dilationW: this.dilation[1],
      outH,
      outW
    }
    this.num = b.countRange(0, a)
    top[0]!.reshape([...b.shape.slice(0, a), channels * this.kernel[0] * this.kernel[1], outH, outW])
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const g = this.geometry!
    const inDim = g.channels * g.height * g.width
    const outDim = top[0]!.count / Math.max(this.num, 1)
    for (let n = 0; n < this.num; n++) this.ctx.backend.im2col(g, bottom[0]!.data, n * inDim, top[0]!.data.subarray(n * outDim, (n + 1) * outDim))
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const g = this.geometry!
    const inDim = g.channels * g.height * g.width
    const outDim = top[0]!.count / Math.max(this.num, 1)
    for (let n = 0; n < this.num; n++) this.ctx.backend.col2im(g, top[0]!.diff.subarray(n * outDim, (n + 1) * outDim), bottom[0]!.diff, n * inDim)
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
