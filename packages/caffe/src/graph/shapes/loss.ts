import { getOr } from "../../schema/defaults.js"
import { canonicalAxis, count, legacyDim, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import { noParams, type LayerShapeRule, type ShapeInput } from "./layer-shape-rule.js"

/** Caffe's loss layers (LossLayer subclasses): their type names all end in "Loss". */
export const isLossType = (type: string): boolean => type.endsWith("Loss")

const SCALAR: Shape = []

/** LossLayer::Reshape: data and label agree on the first axis; top[0] is a 0-axis scalar. */
const checkFirstAxis = ({ bottoms, bottomNames }: ShapeInput): void => {
  if (bottoms[0]![0] !== bottoms[1]![0]) {
    throw new ShapeProblem(bottomNames[1]!, `the data and label should have the same first dimension: ${shapeString(bottoms[0]!)} vs ${shapeString(bottoms[1]!)}`)
  }
}

/** Label count must equal outer·inner around the class axis (SoftmaxWithLoss, InfogainLoss, Accuracy). */
const checkLabelCount = (input: ShapeInput, axisField: number, field: string): number => {
  const { bottoms, bottomNames } = input
  const axis = canonicalAxis(bottoms[0]!, axisField, bottomNames[0]!, field)
  const predictions = count(bottoms[0]!, 0, axis) * count(bottoms[0]!, axis + 1)
  if (predictions !== count(bottoms[1]!)) {
    throw new ShapeProblem(
      bottomNames[1]!,
      `number of labels (${count(bottoms[1]!)} in ${shapeString(bottoms[1]!)}) must match number of predictions (${predictions} for ${shapeString(bottoms[0]!)} with class axis ${axis})`
    )
  }
  return axis
}

const lossRule = (check: (input: ShapeInput) => void, maxTops = 1, bottoms: readonly [number, number] = [2, 2]): LayerShapeRule => ({
  bottoms,
  tops: [1, maxTops],
  paramCount: noParams,
  infer: (input) => {
    checkFirstAxis(input)
    check(input)
    // A second top (SoftmaxWithLoss / InfogainLoss) holds the probabilities, shaped like bottom[0].
    return { tops: input.topNames.map((_, i) => (i === 0 ? SCALAR : input.bottoms[0]!)), params: [] }
  }
})

export const softmaxWithLossRule = lossRule(
  (input) => void checkLabelCount(input, getOr(input.layer.softmax_param, "SoftmaxParameter", "axis"), "softmax_param.axis"),
  2
)

export const infogainLossRule = lossRule(
  (input) => void checkLabelCount(input, getOr(input.layer.infogain_loss_param, "InfogainLossParameter", "axis"), "infogain_loss_param.axis"),
  2,
  [2, 3]
)

export const euclideanLossRule = lossRule(({ bottoms, bottomNames }) => {
  if (count(bottoms[0]!, 1) !== count(bottoms[1]!, 1)) {
    throw new ShapeProblem(bottomNames[1]!, `inputs must have the same dimension: ${shapeString(bottoms[0]!)} vs ${shapeString(bottoms[1]!)}`)
  }
})

export const sigmoidCrossEntropyLossRule = lossRule(({ bottoms, bottomNames }) => {
  if (count(bottoms[0]!) !== count(bottoms[1]!)) {
    throw new ShapeProblem(bottomNames[1]!, `inputs must have the same count: ${shapeString(bottoms[0]!)} vs ${shapeString(bottoms[1]!)}`)
  }
})

const labelIsColumn = ({ bottoms, bottomNames }: ShapeInput): void => {
  const label = bottoms[1]!
  const name = bottomNames[1]!
  if (legacyDim(label, 1, name) !== 1 || legacyDim(label, 2, name) !== 1 || legacyDim(label, 3, name) !== 1) {
    throw new ShapeProblem(name, `label must be (N, 1, 1, 1), got ${shapeString(label)}`)
  }
}

export const multinomialLogisticLossRule = lossRule(labelIsColumn)

export const hingeLossRule = lossRule(() => undefined)

export const contrastiveLossRule = lossRule(({ bottoms, bottomNames }) => {
  const [a, b, sim] = [bottoms[0]!, bottoms[1]!, bottoms[2]!]
  const [na, nb, ns] = [bottomNames[0]!, bottomNames[1]!, bottomNames[2]!]
  if (legacyDim(a, 1, na) !== legacyDim(b, 1, nb)) {
    throw new ShapeProblem(nb, `both feature inputs must have the same channels: ${shapeString(a)} vs ${shapeString(b)}`)
  }
  for (const [shape, name] of [[a, na], [b, nb]] as const) {
    if (legacyDim(shape, 2, name) !== 1 || legacyDim(shape, 3, name) !== 1) {
      throw new ShapeProblem(name, `features must be (N, C, 1, 1), got ${shapeString(shape)}`)
    }
  }
  if (legacyDim(sim, 1, ns) !== 1 || legacyDim(sim, 2, ns) !== 1 || legacyDim(sim, 3, ns) !== 1) {
    throw new ShapeProblem(ns, `similarity label must be (N, 1, 1, 1), got ${shapeString(sim)}`)
  }
}, 1, [3, 3])

/** Accuracy: a 0-axis top, plus a per-class top (classes) when asked for. */
export const accuracyRule: LayerShapeRule = {
  bottoms: [2, 2],
  tops: [1, 2],
  paramCount: noParams,
  infer: (input) => {
    const { layer, bottoms, bottomNames, topNames } = input
    const topK = getOr(layer.accuracy_param, "AccuracyParameter", "top_k")
    const labels = count(bottoms[1]!)
    if (labels === 0 || topK > count(bottoms[0]!) / labels) {
      throw new ShapeProblem(bottomNames[0]!, `top_k ${topK} must be less than or equal to the number of classes (${count(bottoms[0]!)} / ${labels})`)
    }
    const axis = checkLabelCount(input, getOr(layer.accuracy_param, "AccuracyParameter", "axis"), "accuracy_param.axis")
    const tops: Shape[] = [SCALAR]
    if (topNames.length > 1) tops.push([bottoms[0]![axis]!])
    return { tops, params: [] }
  }
}

/** HDF5Output: writes its two bottoms, no tops. */
export const hdf5OutputRule: LayerShapeRule = {
  bottoms: [2, 2],
  tops: [0, 0],
  paramCount: noParams,
  infer: () => ({ tops: [], params: [] })
}
