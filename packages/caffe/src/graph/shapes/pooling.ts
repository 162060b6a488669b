import { getOr } from "../../schema/defaults.js"
import type { PoolingParameter } from "../../schema/types.js"
import { count, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import type { LayerShapeRule } from "./layer-shape-rule.js"

export type RoundMode = "CEIL" | "FLOOR"

/**
 * Pooled size along one axis (PoolingLayer::Reshape): ceil (or floor) of (in + 2p − k) / s in float32,
 * plus one; then, only when a pad is non-zero, the last window must start inside the image or the
 * padding before its end: if (out − 1)·s ≥ in + p, out decreases by one.
 * `anyPad` is whether pad_h or pad_w is non-zero (the clip applies to both axes then).
 */
export const pooledSize = (input: number, kernel: number, stride: number, pad: number, round: RoundMode = "CEIL", anyPad = pad !== 0): number => {
  const ratio = Math.fround(Math.fround(input + 2 * pad - kernel) / stride)
  let out = (round === "CEIL" ? Math.ceil(ratio) : Math.floor(ratio)) + 1
  if (anyPad && (out - 1) * stride >= input + pad) out--
  return out
}

interface PoolGeometry {
  readonly kernel: readonly [number, number]
  readonly stride: readonly [number, number]
  readonly pad: readonly [number, number]
}

const P = "PoolingParameter"

/** The checks and field resolution of PoolingLayer::LayerSetUp. */
const poolGeometry = (p: PoolingParameter, height: number, width: number): PoolGeometry => {
  const global = getOr(p, P, "global_pooling")
  const hasKernelHW = p.kernel_h !== undefined && p.kernel_w !== undefined
  if (global) {
    if (p.kernel_size !== undefined || p.kernel_h !== undefined || p.kernel_w !== undefined) {
      throw new ShapeProblem("", "with global_pooling: true, filter size cannot be specified")
    }
  } else {
    if ((p.kernel_size !== undefined) === hasKernelHW) {
      throw new ShapeProblem("", "filter size is kernel_size OR kernel_h and kernel_w; not both")
    }
    if (p.kernel_size === undefined && !hasKernelHW) {
      throw new ShapeProblem("", "for non-square filters both kernel_h and kernel_w are required")
    }
  }
  const hasPadHW = p.pad_h !== undefined || p.pad_w !== undefined
  if (hasPadHW && (p.pad !== undefined || p.pad_h === undefined || p.pad_w === undefined)) {
    throw new ShapeProblem("", "pad is pad OR pad_h and pad_w are required")
  }
  const hasStrideHW = p.stride_h !== undefined || p.stride_w !== undefined
  if (hasStrideHW && (p.stride !== undefined || p.stride_h === undefined || p.stride_w === undefined)) {
    throw new ShapeProblem("", "stride is stride OR stride_h and stride_w are required")
  }
  const kernel: [number, number] = global
    ? [height, width]
    : p.kernel_size !== undefined
      ? [p.kernel_size, p.kernel_size]
      : [p.kernel_h!, p.kernel_w!]
  if (kernel[0] <= 0 || kernel[1] <= 0) throw new ShapeProblem("", "filter dimensions cannot be zero")
  const pad: [number, number] = hasPadHW ? [p.pad_h!, p.pad_w!] : [getOr(p, P, "pad"), getOr(p, P, "pad")]
  const stride: [number, number] = hasStrideHW ? [p.stride_h!, p.stride_w!] : [getOr(p, P, "stride"), getOr(p, P, "stride")]
  if (stride[0] <= 0 || stride[1] <= 0) throw new ShapeProblem("", "stride must be positive")
  if (global && (pad[0] !== 0 || pad[1] !== 0 || stride[0] !== 1 || stride[1] !== 1)) {
    throw new ShapeProblem("", "with global_pooling: true, only pad = 0 and stride = 1 are allowed")
  }
  if (pad[0] !== 0 || pad[1] !== 0) {
    const pool = getOr(p, P, "pool")
    if (pool !== "AVE" && pool !== "MAX") throw new ShapeProblem("", "padding implemented only for average and max pooling")
    if (pad[0] >= kernel[0] || pad[1] >= kernel[1]) {
      throw new ShapeProblem("", `pad (${pad[0]},${pad[1]}) must be smaller than the kernel (${kernel[0]},${kernel[1]})`)
    }
  }
  return { kernel, stride, pad }
}

/** (num, channels, pooled_h, pooled_w) of a 4-axis bottom. */
export const pooledShape = (p: PoolingParameter, bottom: Shape, blob: string): Shape => {
  if (bottom.length !== 4) {
    throw new ShapeProblem(blob, `pooling input must have 4 axes (num, channels, height, width), got ${shapeString(bottom)}`)
  }
  const [num, channels, height, width] = bottom as [number, number, number, number]
  const g = poolGeometry(p, height, width)
  const round = getOr(p, P, "round_mode")
  const anyPad = g.pad[0] !== 0 || g.pad[1] !== 0
  const dims = [height, width].map((input, i) => {
    if (input + 2 * g.pad[i]! < g.kernel[i]!) {
      throw new ShapeProblem(blob, `kernel ${g.kernel[i]} is larger than the padded input ${input} + 2·${g.pad[i]} along axis ${i + 2} of ${shapeString(bottom)}`)
    }
    return pooledSize(input, g.kernel[i]!, g.stride[i]!, g.pad[i]!, round, anyPad)
  })
  return [num, channels, dims[0]!, dims[1]!]
}

export const poolingRule: LayerShapeRule = {
  bottoms: [1, 1],
  // MAX pooling may output its argmax mask as a second top.
  tops: [1, 2],
  paramCount: () => 0,
  infer: ({ layer, bottoms, bottomNames, topNames }) => {
    const p = layer.pooling_param ?? {}
    if (topNames.length > 1 && getOr(p, P, "pool") !== "MAX") {
      throw new ShapeProblem(topNames[1]!, "only MAX pooling has a second (mask) top")
    }
    const top = pooledShape(p, bottoms[0]!, bottomNames[0]!)
    return { tops: topNames.map(() => top), params: [] }
  }
}

/**
 * SPP: for pyramid level l, 2^l × 2^l bins pooled with kernel ceil(in/bins), pad (k·bins − in + 1)/2,
 * stride k; each level flattened and concatenated along axis 1. One level is plain pooling (4-axis top).
 */
export const sppRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: () => 0,
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.spp_param ?? {}
    const bottom = bottoms[0]!
    if (bottom.length !== 4) throw new ShapeProblem(bottomNames[0]!, `SPP input must have 4 axes, got ${shapeString(bottom)}`)
    const height = getOr(p, "SPPParameter", "pyramid_height")
    if (height <= 0) throw new ShapeProblem("", "spp_param.pyramid_height must be positive")
    const pool = getOr(p, "SPPParameter", "pool")
    const levelShape = (level: number): Shape => {
      const bins = 2 ** level
      const [kh, kw] = [Math.ceil(bottom[2]! / bins), Math.ceil(bottom[3]! / bins)]
      const [ph, pw] = [Math.trunc((kh * bins - bottom[2]! + 1) / 2), Math.trunc((kw * bins - bottom[3]! + 1) / 2)]
      return pooledShape({ pool, kernel_h: kh, kernel_w: kw, stride_h: kh, stride_w: kw, pad_h: ph, pad_w: pw }, bottom, bottomNames[0]!)
    }
    if (height === 1) return { tops: [levelShape(0)], params: [] }
    let width = 0
    for (let level = 0; level < height; level++) width += count(levelShape(level), 1)
    return { tops: [[bottom[0]!, width]], params: [] }
  }
}
