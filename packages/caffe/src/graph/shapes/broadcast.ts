import { getOr } from "../../schema/defaults.js"
import type { LayerParameter } from "../../schema/types.js"
import { canonicalAxis, sameShape, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import { ANY, noParams, type LayerShapeRule } from "./layer-shape-rule.js"

/**
 * The broadcast operand shape of Scale / Bias with one bottom: bottom[axis : axis+num_axes]
 * (num_axes −1 = to the end).
 */
const operandShape = (bottom: Shape, axisField: number, numAxes: number, blob: string, what: string): Shape => {
  const axis = canonicalAxis(bottom, axisField, blob, `${what}.axis`)
  if (numAxes < -1) throw new ShapeProblem("", `${what}.num_axes must be non-negative, or -1 to extend to the end of bottom[0]`)
  if (numAxes >= 0 && bottom.length < axis + numAxes) {
    throw new ShapeProblem(blob, `${what} blob's shape extends past bottom[0]'s shape ${shapeString(bottom)} when applied starting with axis ${axis}`)
  }
  return bottom.slice(axis, numAxes === -1 ? bottom.length : axis + numAxes)
}

/** Reshape-time check that `operand` broadcasts onto `bottom` from `axis` (a 0-axis operand always does). */
const checkBroadcast = (bottom: Shape, operand: Shape, axisField: number, blob: string, operandBlob: string, what: string): void => {
  const axis = operand.length === 0 ? 0 : canonicalAxis(bottom, axisField, blob, `${what}.axis`)
  if (bottom.length < axis + operand.length) {
    throw new ShapeProblem(operandBlob, `${what} operand ${shapeString(operand)} extends past bottom[0]'s shape ${shapeString(bottom)} from axis ${axis}`)
  }
  operand.forEach((d, i) => {
    if (bottom[axis + i] !== d) {
      throw new ShapeProblem(operandBlob, `dimension mismatch between bottom[0] axis ${axis + i} (${bottom[axis + i]}) and the ${what} operand's axis ${i} (${d})`)
    }
  })
}

const scaleBiasTerm = (layer: LayerParameter): boolean => getOr(layer.scale_param, "ScaleParameter", "bias_term")

/** Scale: y = x ⊙ s (+ b); s is a parameter (1 bottom) or bottom[1]; bias via an inner Bias layer. */
export const scaleRule: LayerShapeRule = {
  bottoms: [1, 2],
  tops: [1, 1],
  paramCount: (layer, bottoms) => (bottoms === 1 ? 1 : 0) + (scaleBiasTerm(layer) ? 1 : 0),
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.scale_param ?? {}
    const bottom = bottoms[0]!
    const axis = getOr(p, "ScaleParameter", "axis")
    const params: Shape[] = []
    let scale: Shape
    if (bottoms.length === 1) {
      scale = operandShape(bottom, axis, getOr(p, "ScaleParameter", "num_axes"), bottomNames[0]!, "scale_param")
      params.push(scale)
    } else {
      scale = bottoms[1]!
    }
    checkBroadcast(bottom, scale, axis, bottomNames[0]!, bottomNames[1] ?? bottomNames[0]!, "scale")
    if (scaleBiasTerm(layer)) {
      // Caffe configures the inner Bias layer with num_axes = bottom[1]'s axis count (2 bottoms) or num_axes.
      const numAxes = bottoms.length > 1 ? bottoms[1]!.length : getOr(p, "ScaleParameter", "num_axes")
      params.push(operandShape(bottom, axis, numAxes, bottomNames[0]!, "scale_param"))
    }
    return { tops: [bottom], params }
  }
}

/** Bias: y = x + b; b is a parameter (1 bottom) or bottom[1]. */
export const biasRule: LayerShapeRule = {
  bottoms: [1, 2],
  tops: [1, 1],
  paramCount: (_layer, bottoms) => (bottoms === 1 ? 1 : 0),
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.bias_param ?? {}
    const bottom = bottoms[0]!
    const axis = getOr(p, "BiasParameter", "axis")
    const params: Shape[] = []
    let bias: Shape
    if (bottoms.length === 1) {
      bias = operandShape(bottom, axis, getOr(p, "BiasParameter", "num_axes"), bottomNames[0]!, "bias_param")
      params.push(bias)
    } else {
      bias = bottoms[1]!
    }
    checkBroadcast(bottom, bias, axis, bottomNames[0]!, bottomNames[1] ?? bottomNames[0]!, "bias")
    return { tops: [bottom], params }
  }
}

/** Eltwise: all bottoms of one shape; coefficients only for SUM, one per bottom. */
export const eltwiseRule: LayerShapeRule = {
  bottoms: [2, ANY],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.eltwise_param ?? {}
    const coeff = p.coeff ?? []
    if (coeff.length > 0 && getOr(p, "EltwiseParameter", "operation") !== "SUM") {
      throw new ShapeProblem("", "Eltwise layer only takes coefficients for summation")
    }
    if (coeff.length > 0 && coeff.length !== bottoms.length) {
      throw new ShapeProblem("", `Eltwise layer takes one coefficient per bottom blob (${coeff.length} coefficients, ${bottoms.length} bottoms)`)
    }
    const first = bottoms[0]!
    bottoms.forEach((b, i) => {
      if (!sameShape(b, first)) {
        throw new ShapeProblem(bottomNames[i]!, `shape ${shapeString(b)} differs from bottom[0]'s ${shapeString(first)}`)
      }
    })
    return { tops: [first], params: [] }
  }
}
