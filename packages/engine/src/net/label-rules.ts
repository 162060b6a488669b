/**
 * The labels a net can take from each Data layer, found from the net's shapes once the data sources
 * know theirs: a Data layer's label top (through Caffe's Split layers) feeds classifiers whose class
 * count is bottom[0]'s extent at their axis — SoftmaxWithLoss, Accuracy, InfogainLoss (softmax / accuracy
 * / infogain axis), MultinomialLogisticLoss and HingeLoss (count / num) — and a loss's or accuracy's
 * ignore_label is allowed besides. A label top that also feeds anything else (a regression target, a
 * Python layer) gets no rule. The layers check labels themselves too; the rule lets the Data layer name
 * the database and the record instead of a position in a batch.
 */
import { buildNetGraph, canonicalAxis, shapeCount, type GraphLayer, type NetGraph, type NetParameter, type NetState, type Shape } from "@deepspark/caffe"
import type { LabelRule } from "@deepspark/data"

/** Classes and ignore_label of one consumer of a label blob (bottom 1), or null when it is no classifier. */
const classifierRule = (layer: GraphLayer, scores: Shape): LabelRule | null => {
  const p = layer.param
  const by = `layer "${layer.name}" (${layer.type})`
  const at = (axis: number | undefined, field: string): number => scores[canonicalAxis(scores, axis ?? 1, layer.bottom[0] ?? "", field)]!
  const ignore = (label: number | undefined): ReadonlyArray<number> => (label !== undefined ? [label] : [])
  switch (layer.type) {
    case "SoftmaxWithLoss":
      return { numClasses: at(p.softmax_param?.axis, "softmax_param.axis"), ignoreLabels: ignore(p.loss_param?.ignore_label), by }
    case "Accuracy":
      return { numClasses: at(p.accuracy_param?.axis, "accuracy_param.axis"), ignoreLabels: ignore(p.accuracy_param?.ignore_label), by }
    case "InfogainLoss":
      return { numClasses: at(p.infogain_loss_param?.axis, "infogain_loss_param.axis"), ignoreLabels: ignore(p.loss_param?.ignore_label), by }
    case "MultinomialLogisticLoss":
    case "HingeLoss":
      return { numClasses: shapeCount(scores, 1), ignoreLabels: [], by }
    default:
      return null
  }
}

/**
 * Label rules by Data layer name. `dataShapes` gives each opened Data layer's top shapes. A net whose
 * shapes cannot be worked out gets no rules (building the Net reports its problem).
 */
export const netLabelRules = (
  net: NetParameter,
  state: NetState | undefined,
  dataShapes: ReadonlyMap<string, ReadonlyArray<Shape>>
): Map<string, LabelRule> => {
  const rules = new Map<string, LabelRule>()
  let graph: NetGraph
  try {
    graph = buildNetGraph(net, {
      ...(state !== undefined ? { state } : {}),
      dataShapeProvider: (layer) => (layer.type === "Data" ? dataShapes.get(layer.name ?? "") : undefined),
      unsupportedLayers: "unknown-shapes"
    })
  } catch {
    return rules
  }
  /** Consumers of a blob and the bottom index they read it at, looking through Split layers. */
  const consumers = (blob: string): Array<{ layer: GraphLayer; index: number }> =>
    graph.layers.flatMap((layer) =>
      layer.bottom.flatMap((b, index) => (b !== blob ? [] : layer.isSplit ? layer.top.flatMap((t) => consumers(t)) : [{ layer, index }]))
    )
  for (const data of graph.layers) {
    const label = data.type === "Data" ? data.top[1] : undefined
    if (label === undefined) continue
    const found = consumers(label)
    const perConsumer = found.map(({ layer, index }): LabelRule | null => {
      const scores = graph.blobs.get(layer.bottom[0] ?? "")
      try {
        return index === 1 && scores ? classifierRule(layer, scores) : null
      } catch {
        return null // an axis out of range: the layer's own setup reports it
      }
    })
    if (found.length === 0 || perConsumer.some((r) => r === null)) continue
    const classifiers = perConsumer as ReadonlyArray<LabelRule>
    // the fewest classes any classifier has; every classifier's ignore_label passes
    const fewest = classifiers.reduce((a, b) => (b.numClasses < a.numClasses ? b : a))
    rules.set(data.name, { ...fewest, ignoreLabels: [...new Set(classifiers.flatMap((r) => r.ignoreLabels ?? []))] })
  }
  return rules
}
