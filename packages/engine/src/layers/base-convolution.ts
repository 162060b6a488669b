import { getOr, type ConvolutionParameter } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import type { ConvGeometry, DirectConvolution } from "../backend/backend.js"
import { fillBlob } from "../fillers/fill.js"

/**
 * Caffe's BaseConvolutionLayer, shared by Convolution and Deconvolution: parses the kernel / pad / stride
 * / dilation parameters (given once, once per spatial axis, or as _h/_w), owns the weights
 * (conv_out, conv_in/group, kh, kw) and bias (num_output), and provides the im2col + gemm building
 * blocks with groups. Computes 1 or 2 spatial axes (1-D runs as H = 1); more are rejected.
 */
export abstract class BaseConvolutionLayer extends Layer {
  protected numOutput = 0
  protected group = 1
  protected biasTerm = true
  protected channelAxis = 1
  protected numSpatialAxes = 2
  protected kernel: [number, number] = [1, 1]
  protected stride: [number, number] = [1, 1]
  protected pad: [number, number] = [0, 0]
  protected dilation: [number, number] = [1, 1]
  protected channels = 0
  protected num = 0
  protected convOutChannels = 0
  protected convInChannels = 0
  protected kernelDim = 0
  protected weightOffset = 0
  protected colOffset = 0
  protected outputOffset = 0
  protected convOutSpatialDim = 0
  /** Spatial count of the top (for the bias). */
  protected outSpatialDim = 0
  protected bottomDim = 0
  protected topDim = 0
  protected is1x1 = false
  protected geometry!: ConvGeometry
  protected col: Float32Array = new Float32Array(0)
  protected ones: Float32Array = new Float32Array(0)
  /**
   * Images per im2col + GEMM group (chosen at reshape from the backend's column budget): 1 runs Caffe's
   * per-image loop; more put the group's column matrices side by side for one GEMM per group.
   */
  protected groupImages = 1
  /** The group's GEMM output (forward) or gathered output diff (backward data): conv-out rows × group columns. */
  private groupOut: Float32Array = new Float32Array(0)
  /** The backend's im2col-free forward for this shape, when it has a faster one (chosen at reshape). */
  private directForward: DirectConvolution | undefined
  private directForwardKey = ""

  /** Deconvolution swaps the roles of input and output. */
  protected abstract reverseDimensions(): boolean
  /** Output spatial size for one axis from the input size. */
  protected abstract outputSize(input: number, axis: 0 | 1): number

  override minBottomBlobs(): number {
    return 1
  }
  override minTopBlobs(): number {
    return 1
  }
  override equalNumBottomTopBlobs(): boolean {
    return true
  }

  layerSetUp(bottom: Blob[]): void {
    const p: ConvolutionParameter = this.param.convolution_param ?? {}
    const b = bottom[0]!
    this.channelAxis = b.canonicalAxis(getOr(p, "ConvolutionParameter", "axis"))
    this.numSpatialAxes = b.numAxes - this.channelAxis - 1
    if (this.numSpatialAxes > 2)
      throw this.setupError(`${this.numSpatialAxes} spatial axes (bottom [${b.shape.join(", ")}]): deepspark computes 1-D and 2-D convolution only`)
    if (this.numSpatialAxes < 1) throw this.setupError(`bottom [${b.shape.join(", ")}] has no spatial axis after channel axis ${this.channelAxis}`)
    this.kernel = this.spatialParam(p, "kernel_size", p.kernel_h, p.kernel_w, undefined)
    if (this.kernel.some((k) => !(k > 0))) throw this.setupError(`kernel dimensions must be positive, got ${this.kernel.join("×")}`)
    this.stride = this.spatialParam(p, "stride", p.stride_h, p.stride_w, 1)
    if (this.stride.some((s) => !(s > 0))) throw this.setupError(`stride dimensions must be positive, got ${this.stride.join("×")}`)
    this.pad = this.spatialParam(p, "pad", p.pad_h, p.pad_w, 0)
    this.dilation = this.spatialParam(p, "dilation", undefined, undefined, 1)
    this.is1x1 = this.kernel.every((k) => k === 1) && this.stride.every((s) => s === 1) && this.pad.every((q) => q === 0)

    this.channels = b.shape[this.channelAxis]!
    if (p.num_output === undefined || p.num_output <= 0) throw this.setupError("convolution_param.num_output must be set and positive")
    this.numOutput = p.num_output
    this.group = getOr(p, "ConvolutionParameter", "group")
    if (this.channels % this.group !== 0) throw this.setupError(`number of input channels ${this.channels} is not a multiple of group ${this.group}`)
    if (this.numOutput % this.group !== 0) throw this.setupError(`number of outputs ${this.numOutput} is not a multiple of group ${this.group}`)
    if (this.reverseDimensions()) {
      this.convOutChannels = this.channels
      this.convInChannels = this.numOutput
    } else {
      this.convOutChannels = this.numOutput
      this.convInChannels = this.channels
    }
    this.biasTerm = getOr(p, "ConvolutionParameter", "bias_term")
    const weight = new Blob([this.convOutChannels, this.convInChannels / this.group, ...this.kernelShape()])
    fillBlob(weight, p.weight_filler, this.ctx.rng)
    this.blobs = [weight]
    if (this.biasTerm) {
      const bias = new Blob([this.numOutput])
      fillBlob(bias, p.bias_filler, this.ctx.rng)
      this.blobs.push(bias)
    }
    this.kernelDim = weight.countRange(1)
    this.weightOffset = (this.convOutChannels * this.kernelDim) / this.group
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b0 = bottom[0]!
    if (b0.numAxes !== this.channelAxis + 1 + this.numSpatialAxes)
      throw this.setupError(`bottom num_axes may not change: expected ${this.channelAxis + 1 + this.numSpatialAxes}, got [${b0.shape.join(", ")}]`)
    this.num = b0.countRange(0, this.channelAxis)
    if (b0.shape[this.channelAxis] !== this.channels)
      throw this.setupError(`input size incompatible with convolution kernel: bottom has ${b0.shape[this.channelAxis]} channels, weights expect ${this.channels}`)
    bottom.forEach((b, i) => {
      if (b.shape.length !== b0.shape.length || b.shape.some((d, j) => d !== b0.shape[j]))
        throw this.setupError(`all inputs must have the same shape: bottom[0] is [${b0.shape.join(", ")}], bottom[${i}] is [${b.shape.join(", ")}]`)
    })
    const inSpatial = this.spatialOf(b0.shape.slice(this.channelAxis + 1))
    const outSpatial: [number, number] = [this.outputSize(inSpatial[0], 0), this.outputSize(inSpatial[1], 1)]
    if (outSpatial.some((o) => !(o > 0)))
      throw this.setupError(`output size ${outSpatial.join("×")} is not positive for input [${b0.shape.join(", ")}], kernel ${this.kernel.join("×")}, pad ${this.pad.join("×")}, stride ${this.stride.join("×")}, dilation ${this.dilation.join("×")}`)
    const topShape = [...b0.shape.slice(0, this.channelAxis), this.numOutput, ...(this.numSpatialAxes === 1 ? [outSpatial[1]] : outSpatial)]
    for (const t of top) t.reshape(topShape)
    // The im2col image is the conv's input: the bottom for Convolution, the top for Deconvolution.
    const [imageSpatial, colSpatial] = this.reverseDimensions() ? [outSpatial, inSpatial] : [inSpatial, outSpatial]
    this.geometry = {
      channels: this.convInChannels,
      height: imageSpatial[0],
      width: imageSpatial[1],
      kernelH: this.kernel[0],
      kernelW: this.kernel[1],
      padH: this.pad[0],
      padW: this.pad[1],
      strideH: this.stride[0],
      strideW: this.stride[1],
      dilationH: this.dilation[0],
      dilationW: this.dilation[1],
      outH: colSpatial[0],
      outW: colSpatial[1]
    }
    this.convOutSpatialDim = colSpatial[0] * colSpatial[1]
    this.chooseForward()
    this.colOffset = this.kernelDim * this.convOutSpatialDim
    this.outputOffset = (this.convOutChannels * this.convOutSpatialDim) / this.group
    this.outSpatialDim = outSpatial[0] * outSpatial[1]
    this.bottomDim = b0.countRange(this.channelAxis)
    this.topDim = top[0]!.countRange(this.channelAxis)
    const colCount = this.kernelDim * this.group * this.convOutSpatialDim
    this.groupImages = this.chooseGroupImages(colCount)
    const batched = this.groupImages > 1
    const colFloats = batched ? colCount * this.groupImages : this.is1x1 ? 0 : colCount
    if (this.col.length < colFloats) this.col = this.ctx.backend.allocator.allocFloat32(colFloats)
    const outFloats = batched ? this.convOutChannels * this.convOutSpatialDim * this.groupImages : 0
    if (this.groupOut.length < outFloats) this.groupOut = this.ctx.backend.allocator.allocFloat32(outFloats)
    if (this.biasTerm && this.ones.length !== this.outSpatialDim) this.ones = this.ctx.backend.allocator.allocFloat32(this.outSpatialDim).fill(1)
  }

  /** The geometry and grouping reshape resolved (per image), for kernels that run outside the layer (the webgpu executor). */
  resolvedSettings(): { readonly geometry: ConvGeometry; readonly group: number; readonly biasTerm: boolean; readonly numOutput: number; readonly num: number } {
    return { geometry: this.geometry, group: this.group, biasTerm: this.biasTerm, numOutput: this.numOutput, num: this.num }
  }

  /** Asks the backend for a direct forward once per shape (Convolution only, one group, not 1×1). */
  private chooseForward(): void {
    const g = this.geometry
    const key = `${g.channels} ${g.height} ${g.width} ${g.kernelH} ${g.kernelW} ${g.padH} ${g.padW} ${g.strideH} ${g.strideW} ${g.dilationH} ${g.dilationW} ${this.convOutChannels}`
    if (key === this.directForwardKey) return
    this.directForwardKey = key
    const eligible = this.group === 1 && !this.is1x1 && !this.reverseDimensions()
    this.directForward = eligible ? this.ctx.backend.directConvolution?.(g, this.convOutChannels) : undefined
  }

  /** The backend's group size; 1 without batching or with the direct forward kernel (per image by design). */
  private chooseGroupImages(colCount: number): number {
    const batching = this.ctx.backend.convolutionBatching
    if (!batching || this.directForward || this.num < 2) return 1
    const images = batching.groupImages(this.kernelDim, colCount, this.convOutSpatialDim, this.num)
    if (!(Number.isInteger(images) && images >= 1 && images <= this.num)) throw new RangeError(`backend asked for groups of ${images} images (batch ${this.num})`)
    return images
  }

  /** How the forward pass computes (logged by `deepspark time`). */
  get forwardMethod(): string {
    if (this.directForward) return "direct kernel (no im2col)"
    const groups = this.groupImages > 1 ? ` over groups of ${this.groupImages} images` : ""
    return (this.is1x1 ? "GEMM (1×1, no im2col)" : "im2col + GEMM") + groups
  }

  /**
   * forwardGemm for every image, a group of images per GEMM (groupImages > 1): each image's im2col
   * goes into its columns of one matrix, one GEMM per convolution group computes the whole group's
   * output (N = images·spatial), and its columns are copied to the images. Each output element is the
   * same k-ordered sum in the same K blocks as per image: bit-identical.
   */
  protected forwardGemmGrouped(input: Float32Array, inDim: number, weights: Float32Array, output: Float32Array, outDim: number): void {
    const be = this.ctx.backend
    const batching = be.convolutionBatching!
    const S = this.convOutSpatialDim
    const m = this.convOutChannels / this.group
    for (let n0 = 0; n0 < this.num; n0 += this.groupImages) {
      const images = Math.min(this.groupImages, this.num - n0)
      const row = images * S
      if (this.is1x1) batching.copyBlocks(images, this.kernelDim * this.group, S, input, n0 * inDim, inDim, S, this.col, 0, S, row)
      else for (let i = 0; i < images; i++) batching.im2col(this.geometry, input, (n0 + i) * inDim, this.col, i * S, row)
      for (let g = 0; g < this.group; g++)
        be.gemm(false, false, m, row, this.kernelDim, 1, weights, this.weightOffset * g, this.col, this.kernelDim * row * g, 0, this.groupOut, m * row * g)
      batching.copyBlocks(images, this.convOutChannels, S, this.groupOut, 0, S, row, output, n0 * outDim, outDim, S)
    }
  }

  /**
   * backwardGemm for every image, a group per GEMM: the group's output diffs gathered side by side,
   * one GEMM per convolution group into the column matrix, then col2im per image. Bit-identical.
   */
  protected backwardGemmGrouped(outputDiff: Float32Array, outDim: number, weights: Float32Array, inputDiff: Float32Array, inDim: number): void {
    const be = this.ctx.backend
    const batching = be.convolutionBatching!
    const S = this.convOutSpatialDim
    const m = this.convOutChannels / this.group
    for (let n0 = 0; n0 < this.num; n0 += this.groupImages) {
      const images = Math.min(this.groupImages, this.num - n0)
      const row = images * S
      batching.copyBlocks(images, this.convOutChannels, S, outputDiff, n0 * outDim, outDim, S, this.groupOut, 0, S, row)
      for (let g = 0; g < this.group; g++)
        be.gemm(true, false, this.kernelDim, row, m, 1, weights, this.weightOffset * g, this.groupOut, m * row * g, 0, this.col, this.kernelDim * row * g)
      if (this.is1x1) batching.copyBlocks(images, this.kernelDim * this.group, S, this.col, 0, S, row, inputDiff, n0 * inDim, inDim, S)
      else for (let i = 0; i < images; i++) batching.col2im(this.geometry, this.col, i * S, row, inputDiff, (n0 + i) * inDim)
    }
  }

  /** output = W ∗ input for one image (Caffe's forward_cpu_gemm). */
  protected forwardGemm(input: Float32Array, inOff: number, weights: Float32Array, output: Float32Array, outOff: number, skipIm2col = false): void {
    if (this.directForward && !skipIm2col) {
      this.directForward(weights, input, inOff, output, outOff)
      return
    }
    const be = this.ctx.backend
    let col: Float32Array = this.col
    let colBase = 0
    if (this.is1x1) {
      col = input
      colBase = inOff
    } else if (!skipIm2col) be.im2col(this.geometry, input, inOff, this.col)
    const m = this.convOutChannels / this.group
    for (let g = 0; g < this.group; g++)
      be.gemm(false, false, m, this.convOutSpatialDim, this.kernelDim, 1, weights, this.weightOffset * g, col, colBase + this.colOffset * g, 0, output, outOff + this.outputOffset * g)
  }

  /** output += bias ⊗ ones. */
  protected forwardBias(output: Float32Array, outOff: number, bias: Float32Array): void {
    this.ctx.backend.gemm(false, false, this.numOutput, this.outSpatialDim, 1, 1, bias, 0, this.ones, 0, 1, output, outOff)
  }

  /** inputDiff = Wᵀ ∗ outputDiff for one image, through col2im (Caffe's backward_cpu_gemm). */
  protected backwardGemm(outputDiff: Float32Array, outOff: number, weights: Float32Array, inputDiff: Float32Array, inOff: number): void {
    const be = this.ctx.backend
    const col = this.is1x1 ? inputDiff : this.col
    const colBase = this.is1x1 ? inOff : 0
    const m = this.convOutChannels / this.group
    for (let g = 0; g < this.group; g++)
      be.gemm(true, false, this.kernelDim, this.convOutSpatialDim, m, 1, weights, this.weightOffset * g, outputDiff, outOff + this.outputOffset * g, 0, col, colBase + this.colOffset * g)
    if (!this.is1x1) be.col2im(this.geometry, this.col, inputDiff, inOff)
  }

  /** weightDiff += outputDiff ∗ im2col(input)ᵀ for one image (Caffe's weight_cpu_gemm). */
  protected weightGemm(input: Float32Array, inOff: number, outputDiff: Float32Array, outOff: number, weightDiff: Float32Array): void {
    const be = this.ctx.backend
    let col: Float32Array = this.col
    let colBase = 0
    if (this.is1x1) {
      col = input
      colBase = inOff
    } else be.im2col(this.geometry, input, inOff, this.col)
    const m = this.convOutChannels / this.group
    for (let g = 0; g < this.group; g++)
      be.gemm(false, true, m, this.kernelDim, this.convOutSpatialDim, 1, outputDiff, outOff + this.outputOffset * g, col, colBase + this.colOffset * g, 1, weightDiff, this.weightOffset * g)
  }

  /** biasDiff += Σ_spatial outputDiff. */
  protected biasGemm(biasDiff: Float32Array, outputDiff: Float32Array, outOff: number): void {
    this.ctx.backend.gemv(false, this.numOutput, this.outSpatialDim, 1, outputDiff, outOff, this.ones, 0, 1, biasDiff, 0)
  }

  private kernelShape(): number[] {
    return this.numSpatialAxes === 1 ? [this.kernel[1]] : [...this.kernel]
  }

  /** [H, W] of a spatial shape (1-D: H = 1). */
  private spatialOf(spatial: number[]): [number, number] {
    return spatial.length === 1 ? [1, spatial[0]!] : [spatial[0]!, spatial[1]!]
  }

  /** A per-axis parameter from its repeated form or its _h/_w form; a 1-D conv gets the H value neutral. */
  private spatialParam(
    p: ConvolutionParameter,
    field: "kernel_size" | "stride" | "pad" | "dilation",
    h: number | undefined,
    w: number | undefined,
    fallback: number | undefined
  ): [number, number] {
    const list = p[field] ?? []
    const neutral = field === "pad" ? 0 : 1
    if (h !== undefined || w !== undefined) {
      if (this.numSpatialAxes !== 2) throw this.setupError(`${field}_h & ${field}_w can only be used for 2D convolution`)
      if (list.length > 0) throw this.setupError(`either ${field} or ${field}_h/w should be specified; not both`)
      if (h === undefined || w === undefined) throw this.setupError(`for non-square ${field}, both ${field}_h and ${field}_w are required`)
      return [h, w]
    }
    if (list.length === 0) {
      if (fallback === undefined) throw this.setupError(`${field} is required (kernel_size or kernel_h and kernel_w)`)
      return this.numSpatialAxes === 1 ? [neutral, fallback] : [fallback, fallback]
    }
    if (list.length !== 1 && list.length !== this.numSpatialAxes)
      throw this.setupError(`${field} must be specified once, or once per spatial dimension (${field} specified ${list.length} times; ${this.numSpatialAxes} spatial dims)`)
    if (this.numSpatialAxes === 1) return [neutral, list[0]!]
    return [list[0]!, list[list.length === 1 ? 0 : 1]!]
  }
}
