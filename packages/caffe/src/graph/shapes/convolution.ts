import { getOr } from "../../schema/defaults.js"
import type { ConvolutionParameter, LayerParameter } from "../../schema/types.js"
import { canonicalAxis, sameShape, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import { ANY, type LayerShapeRule, type ShapeInput } from "./layer-shape-rule.js"

/** Per-spatial-axis geometry of a convolution, as BaseConvolutionLayer::LayerSetUp resolves it. */
export interface ConvGeometry {
  readonly channelAxis: number
  readonly kernel: ReadonlyArray<number>
  readonly stride: ReadonlyArray<number>
  readonly pad: ReadonlyArray<number>
  readonly dilation: ReadonlyArray<number>
}

const P = "ConvolutionParameter"

/**
 * kernel / stride / pad / dilation per spatial axis: the `_h`/`_w` forms (2-D only, not mixed with the
 * repeated form) or the repeated field given once or once per spatial axis.
 */
export const convGeometry = (p: ConvolutionParameter, bottom: Shape, blob: string): ConvGeometry => {
  const channelAxis = canonicalAxis(bottom, getOr(p, P, "axis"), blob, "convolution_param.axis")
  const spatial = bottom.length - channelAxis - 1
  const perAxis = (
    field: "kernel_size" | "stride" | "pad" | "dilation",
    hw: readonly [h: number | undefined, w: number | undefined] | undefined,
    hwNames: string,
    fallback: number | undefined
  ): number[] => {
    const list = p[field] ?? []
    if (hw !== undefined && (hw[0] !== undefined || hw[1] !== undefined)) {
      if (spatial !== 2) throw new ShapeProblem(blob, `${hwNames} can only be used for 2D convolution`)
      if (list.length !== 0) throw new ShapeProblem("", `either ${field} or ${hwNames} should be specified; not both`)
      if (field === "kernel_size" && (hw[0] === undefined || hw[1] === undefined)) {
        throw new ShapeProblem("", "for non-square filters both kernel_h and kernel_w are required")
      }
      // The partner of a lone _h/_w reads its proto default 0 (as in Caffe: then rejected below unless pad).
      return [hw[0] ?? 0, hw[1] ?? 0]
    }
    if (list.length === 0) {
      if (fallback === undefined) throw new ShapeProblem("", `${field} must be specified`)
      return Array.from({ length: spatial }, () => fallback)
    }
    if (list.length !== 1 && list.length !== spatial) {
      throw new ShapeProblem(blob, `${field} must be specified once, or once per spatial dimension (${field} specified ${list.length} times; ${spatial} spatial dims)`)
    }
    return Array.from({ length: spatial }, (_, i) => list[list.length === 1 ? 0 : i]!)
  }
  const kernel = perAxis("kernel_size", [p.kernel_h, p.kernel_w], "kernel_h/kernel_w", undefined)
  const stride = perAxis("stride", [p.stride_h, p.stride_w], "stride_h/stride_w", 1)
  const pad = perAxis("pad", [p.pad_h, p.pad_w], "pad_h/pad_w", 0)
  const dilation = perAxis("dilation", undefined, "", 1)
  if (kernel.some((k) => k <= 0)) throw new ShapeProblem("", "filter dimensions must be nonzero")
  if (stride.some((s) => s <= 0)) throw new ShapeProblem("", "stride dimensions must be nonzero")
  return { channelAxis, kernel, stride, pad, dilation }
}

/** Convolution output size: (in + 2p − (d(k−1)+1)) / s + 1, integer division. */
export const convOutputSize = (input: number, kernel: number, stride: number, pad: number, dilation = 1): number =>
  Math.trunc((input + 2 * pad - (dilation * (kernel - 1) + 1)) / stride) + 1

/** Deconvolution output size: s(in − 1) + d(k − 1) + 1 − 2p. */
export const deconvOutputSize = (input: number, kernel: number, stride: number, pad: number, dilation = 1): number =>
  stride * (input - 1) + dilation * (kernel - 1) + 1 - 2 * pad

const spatialOutput = (g: ConvGeometry, bottom: Shape, blob: string, reverse: boolean): number[] =>
  g.kernel.map((k, i) => {
    const input = bottom[g.channelAxis + 1 + i]!
    const extent = g.dilation[i]! * (k - 1) + 1
    if (reverse) {
      const out = deconvOutputSize(input, k, g.stride[i]!, g.pad[i]!, g.dilation[i]!)
      if (out <= 0) throw new ShapeProblem(blob, `deconvolution output size ${out} along spatial axis ${i} is not positive`)
      return out
    }
    if (input + 2 * g.pad[i]! < extent) {
      throw new ShapeProblem(blob, `kernel extent ${extent} is larger than the padded input ${input} + 2·${g.pad[i]} along spatial axis ${i} of ${shapeString(bottom)}`)
    }
    return convOutputSize(input, k, g.stride[i]!, g.pad[i]!, g.dilation[i]!)
  })

const convParams = (layer: LayerParameter): ConvolutionParameter => layer.convolution_param ?? {}

const inferConvolution =
  (reverse: boolean) =>
  ({ layer, bottoms, bottomNames }: ShapeInput) => {
    const p = convParams(layer)
    const first = bottoms[0]!
    bottoms.forEach((b, i) => {
      if (!sameShape(b, first)) {
        throw new ShapeProblem(bottomNames[i]!, `all inputs must have the same shape: ${shapeString(b)} vs ${shapeString(first)}`)
      }
    })
    const g = convGeometry(p, first, bottomNames[0]!)
    const numOutput = getOr(p, "ConvolutionParameter", "num_output")
    if (numOutput <= 0) throw new ShapeProblem("", "convolution_param.num_output must be positive")
    const group = getOr(p, "ConvolutionParameter", "group")
    const channels = first[g.channelAxis]!
    if (group <= 0 || channels % group !== 0) {
      throw new ShapeProblem(bottomNames[0]!, `input channels ${channels} are not a multiple of group ${group}`)
    }
    if (numOutput % group !== 0) throw new ShapeProblem("", `num_output ${numOutput} is not a multiple of group ${group}`)
    const top = [...first.slice(0, g.channelAxis), numOutput, ...spatialOutput(g, first, bottomNames[0]!, reverse)]
    // Conv weight (out, in/group, k…); deconv weight (in, out/group, k…).
    const weight = reverse ? [channels, numOutput / group, ...g.kernel] : [numOutput, channels / group, ...g.kernel]
    const params: Shape[] = [weight]
    if (getOr(p, "ConvolutionParameter", "bias_term")) params.push([numOutput])
    return { tops: bottoms.map(() => top), params }
  }

const convParamCount = (layer: LayerParameter): number => (getOr(convParams(layer), "ConvolutionParameter", "bias_term") ? 2 : 1)

export const convolutionRule: LayerShapeRule = {
  bottoms: [1, ANY],
  tops: [1, ANY],
  equalBottomsTops: true,
  paramCount: convParamCount,
  infer: inferConvolution(false)
}

export const deconvolutionRule: LayerShapeRule = { ...convolutionRule, infer: inferConvolution(true) }

/** Im2col: channels × kernel volume columns over the convolution's output grid. */
export const im2colRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: () => 0,
  infer: ({ layer, bottoms, bottomNames }) => {
    const bottom = bottoms[0]!
    const g = convGeometry(convParams(layer), bottom, bottomNames[0]!)
    const kernelVolume = g.kernel.reduce((a, b) => a * b, 1)
    const top = [
      ...bottom.slice(0, g.channelAxis),
      bottom[g.channelAxis]! * kernelVolume,
      ...spatialOutput(g, bottom, bottomNames[0]!, false)
    ]
    return { tops: [top], params: [] }
  }
}
