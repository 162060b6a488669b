import { getOr } from "../../schema/defaults.js"
import { canonicalAxis, count, ShapeProblem, type Shape } from "./blob-shape.js"
import type { LayerShapeRule } from "./layer-shape-rule.js"

/** InnerProduct: K = count(axis…); top = bottom[:axis] + [N]; W (N,K) or (K,N) with transpose; bias (N). */
export const innerProductRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: (layer) => (getOr(layer.inner_product_param, "InnerProductParameter", "bias_term") ? 2 : 1),
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.inner_product_param ?? {}
    const bottom = bottoms[0]!
    const n = getOr(p, "InnerProductParameter", "num_output")
    if (n <= 0) throw new ShapeProblem("", "inner_product_param.num_output must be positive")
    const axis = canonicalAxis(bottom, getOr(p, "InnerProductParameter", "axis"), bottomNames[0]!, "inner_product_param.axis")
    const k = count(bottom, axis)
    const params: Shape[] = [getOr(p, "InnerProductParameter", "transpose") ? [k, n] : [n, k]]
    if (getOr(p, "InnerProductParameter", "bias_term")) params.push([n])
    return { tops: [[...bottom.slice(0, axis), n]], params }
  }
}

const embedParams = (layer: Parameters<LayerShapeRule["paramCount"]>[0]): Shape[] => {
  const p = layer.embed_param ?? {}
  const n = getOr(p, "EmbedParameter", "num_output")
  const k = getOr(p, "EmbedParameter", "input_dim")
  if (n <= 0) throw new ShapeProblem("", "embed_param.num_output must be positive")
  if (k <= 0) throw new ShapeProblem("", "embed_param.input_dim must be positive")
  const params: Shape[] = [[k, n]]
  if (getOr(p, "EmbedParameter", "bias_term")) params.push([n])
  return params
}

/** Embed: a (input_dim, num_output) lookup table (+ bias); top = bottom shape + [num_output]. */
export const embedRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: (layer) => (getOr(layer.embed_param, "EmbedParameter", "bias_term") ? 2 : 1),
  staticParams: embedParams,
  infer: ({ layer, bottoms }) => {
    const params = embedParams(layer)
    return { tops: [[...bottoms[0]!, params[0]![1]!]], params }
  }
}
