import { getOr } from "../../schema/defaults.js"
import { canonicalAxis, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import { ANY, noParams, type LayerShapeRule } from "./layer-shape-rule.js"

/** Layers whose single top has the bottom's shape and which have no parameters (Caffe's NeuronLayer & co). */
export const elementwiseRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ bottoms }) => ({ tops: [bottoms[0]!], params: [] })
}

/** Split: one bottom copied to every top (auto-inserted, or written by hand). */
export const splitRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, ANY],
  paramCount: noParams,
  infer: ({ bottoms, topNames }) => ({ tops: topNames.map(() => bottoms[0]!), params: [] })
}

/** Softmax along `axis` (the axis must exist). */
export const softmaxRule: LayerShapeRule = {
  ...elementwiseRule,
  infer: ({ layer, bottoms, bottomNames }) => {
    canonicalAxis(bottoms[0]!, getOr(layer.softmax_param, "SoftmaxParameter", "axis"), bottomNames[0]!, "softmax_param.axis")
    return { tops: [bottoms[0]!], params: [] }
  }
}

/** LRN: 4-axis input, odd local_size. */
export const lrnRule: LayerShapeRule = {
  ...elementwiseRule,
  infer: ({ layer, bottoms, bottomNames }) => {
    const size = getOr(layer.lrn_param, "LRNParameter", "local_size")
    if (size % 2 !== 1) throw new ShapeProblem("", `LRN only supports odd values for local_size (got ${size})`)
    const bottom = bottoms[0]!
    if (bottom.length !== 4) {
      throw new ShapeProblem(bottomNames[0]!, `LRN input must have 4 axes (num, channels, height, width), got ${shapeString(bottom)}`)
    }
    return { tops: [bottom], params: [] }
  }
}

/** BatchNorm: statistics blobs mean (C), variance (C) and the moving-average factor (1). */
export const batchNormRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: () => 3,
  infer: ({ bottoms }) => {
    const bottom = bottoms[0]!
    const channels = bottom.length === 1 ? 1 : bottom[1]!
    return { tops: [bottom], params: [[channels], [channels], [1]] }
  }
}

/** PReLU: one slope per channel (C), or a single 0-axis slope with channel_shared. */
export const preluRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: () => 1,
  infer: ({ layer, bottoms, bottomNames }) => {
    const bottom = bottoms[0]!
    if (bottom.length < 2) throw new ShapeProblem(bottomNames[0]!, `PReLU needs a bottom of at least 2 axes, got ${shapeString(bottom)}`)
    const slope: Shape = getOr(layer.prelu_param, "PReLUParameter", "channel_shared") ? [] : [bottom[1]!]
    return { tops: [bottom], params: [slope] }
  }
}
