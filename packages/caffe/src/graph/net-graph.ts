import { getOr } from "../schema/defaults.js"
import type { LayerParameter, NetParameter, NetState, Phase } from "../schema/types.js"
import { DuplicateTopError, LayerConfigError, ShapeError, UnknownBottomError, UnsupportedLayerError } from "./errors.js"
import { filterNet, layerIncluded, resolveNetState, type ResolvedNetState } from "./net-state.js"
import { ParamTable, runtimeParamSpecs, type LearnableParam, type NetParam } from "./params.js"
import { count, ShapeProblem, type Shape } from "./shapes/blob-shape.js"
import type { DataShapeProvider } from "./shapes/data.js"
import { ANY, type LayerShapeRule, type ShapeOutput } from "./shapes/layer-shape-rule.js"
import { isLossType } from "./shapes/loss.js"
import { allowForceBackward, layerShapeRules, unsupportedLayerTypes } from "./shapes/registry.js"
import { insertSplitsWithOrigin } from "./splits.js"

/** One layer of the net as Caffe instantiates it (after filtering and split insertion). */
export interface GraphLayer {
  readonly index: number
  readonly name: string
  readonly type: string
  readonly phase: Phase
  readonly bottom: ReadonlyArray<string>
  readonly top: ReadonlyArray<string>
  /**
   * The layer parameter the layer runs with (what Caffe's `Net::ToProto` writes): split-rewritten
   * bottoms, `phase` set, the default `loss_weight: 1` of loss layers, BatchNorm's `param {lr_mult: 0}`.
   */
  readonly param: LayerParameter
  /** Auto-inserted Split layer. */
  readonly isSplit: boolean
  /**
   * A layer of a type deepspark cannot run (Python), kept only with `unsupportedLayers: "unknown-shapes"`:
   * its tops' shapes and its parameter blobs are unknown.
   */
  readonly unsupported: boolean
  /** Per top: top[i] is computed in place over bottom[i]. */
  readonly inPlace: ReadonlyArray<boolean>
  /** Per top: the weight of that top in the net's loss (0 = not a loss). */
  readonly lossWeights: ReadonlyArray<number>
  /** Caffe's layer_need_backward_. */
  readonly needBackward: boolean
  /** Caffe's bottom_need_backward_ (after propagate_down, loss reachability and force_backward). */
  readonly bottomNeedBackward: ReadonlyArray<boolean>
  /** Per parameter blob: whether its gradient is computed (lr_mult ≠ 0, or force_backward). */
  readonly paramPropagateDown: ReadonlyArray<boolean>
  /** Top shapes, null where unknown (data read from disk). */
  readonly topShapes: ReadonlyArray<Shape | null>
  /** Parameter blob shapes in blob order (null entries where unknown). */
  readonly paramShapes: ReadonlyArray<Shape | null>
  /** Indices into NetGraph.params of this layer's blobs. */
  readonly paramIds: ReadonlyArray<number>
}

export interface NetGraph {
  readonly name: string
  readonly state: ResolvedNetState
  readonly layers: ReadonlyArray<GraphLayer>
  /** Every blob, in creation order, with its shape (null = unknown). */
  readonly blobs: ReadonlyMap<string, Shape | null>
  /** Tops of Input layers, in order (Caffe's net_input_blobs_). */
  readonly inputs: ReadonlyArray<string>
  /** Tops no layer consumes, in byte-wise sorted order (Caffe's net_output_blobs_: `#k` in logs). */
  readonly outputs: ReadonlyArray<string>
  /** Every parameter blob of every layer (Caffe's params_). */
  readonly params: ReadonlyArray<NetParam>
  /** Owner blobs in Caffe's learnable_params_ order (what solvers update; BatchNorm statistics included). */
  readonly learnable: ReadonlyArray<LearnableParam>
  /**
   * Total element count of the learnable parameters, or null when some shape is unknown (or an
   * unsupported layer may hold parameter blobs no one can know).
   */
  readonly paramCount: number | null
  /** The layers kept despite an unsupported type (only with `unsupportedLayers: "unknown-shapes"`), in order. */
  readonly unsupported: ReadonlyArray<UnsupportedLayerError>
}

export interface NetGraphOptions {
  /** The NetState to build for (default: the net's own `state`). Merge command-line or solver states first. */
  readonly state?: NetState
  /** Shapes of data-reading layers; by default only what the prototxt itself fixes is known. */
  readonly dataShapeProvider?: DataShapeProvider
  /**
   * Layers of a type Caffe registers but deepspark cannot run (Python): "error" (the default, what
   * training needs) throws UnsupportedLayerError; "unknown-shapes" (for inspection) keeps them with
   * unknown top shapes and parameters — shapes that depend on them become unknown too — and lists them
   * in NetGraph.unsupported. Unknown type names are errors either way.
   */
  readonly unsupportedLayers?: "error" | "unknown-shapes"
}

/**
 * Stands in for a layer deepspark cannot run: any number of bottoms and tops, as many parameter blobs
 * as it names `param` specs for (their shapes unknown); its shapes are never inferred.
 */
const opaqueRule: LayerShapeRule = {
  bottoms: [0, ANY],
  tops: [0, ANY],
  paramCount: (layer) => layer.param?.length ?? 0,
  infer: () => {
    throw new Error("opaqueRule.infer: shapes of unsupported layers are not inferred")
  }
}

/** Caffe compares blob names with std::string's operator<: byte-wise. */
const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

const countRange = (n: number, [min, max]: readonly [number, number]): boolean => n >= min && n <= max

const describeRange = ([min, max]: readonly [number, number], what: string): string =>
  min === max ? `exactly ${min} ${what}` : max === Number.POSITIVE_INFINITY ? `at least ${min} ${what}` : `${min} to ${max} ${what}`

/**
 * Builds the net Caffe's `Net::Init` would build: NetState filtering (phase/level/stage rules), layer
 * phase inheritance, Split insertion with Caffe's names, in-place tops, net inputs/outputs, loss
 * weights, backward needs, parameter ownership and sharing, and every blob's and parameter's shape.
 * Pure: the input message is not modified. Throws the typed errors of ./errors.ts.
 */
export const buildNetGraph = (net: NetParameter, options: NetGraphOptions = {}): NetGraph => {
  const filtered = filterNet(net, options.state ?? net.state)
  const state = resolveNetState(filtered.state)
  let withSplits: ReturnType<typeof insertSplitsWithOrigin>
  try {
    withSplits = insertSplitsWithOrigin(filtered)
  } catch (e) {
    if (!(e instanceof UnknownBottomError)) throw e
    // Say so when the blob's producers exist but the NetState rules dropped them (a wrong phase/stage).
    const excluded = (net.layer ?? []).filter((l) => (l.top ?? []).includes(e.blob) && !layerIncluded(l, state))
    if (excluded.length === 0) throw e
    const stages = state.stage.length > 0 ? state.stage.join(",") : "none"
    throw new UnknownBottomError({
      layer: e.layer,
      blob: e.blob,
      bottomIndex: e.bottomIndex,
      excluded: { layers: excluded.map((l) => l.name ?? ""), state: `phase ${state.phase}, level ${state.level}, stages ${stages}` }
    })
  }
  const sourceLayers = withSplits.net.layer ?? []

  const blobs = new Map<string, Shape | null>()
  const available = new Set<string>()
  const blobNeedBackward = new Map<string, boolean>()
  const inputs: string[] = []
  const table = new ParamTable()
  const unsupportedLayers: UnsupportedLayerError[] = []
  let automaticTops = 0

  interface Draft {
    layer: Omit<GraphLayer, "needBackward" | "bottomNeedBackward" | "paramPropagateDown">
    needBackward: boolean
    bottomNeedBackward: boolean[]
    paramPropagateDown: boolean[]
  }
  const drafts: Draft[] = []

  sourceLayers.forEach((source, index) => {
    const name = source.name ?? ""
    const type = source.type ?? ""
    const phase = source.phase ?? state.phase
    const unsupportedReason = unsupportedLayerTypes.get(type)
    const unsupported = unsupportedReason !== undefined
    if (unsupported) {
      const error = new UnsupportedLayerError({ layer: name, type, reason: unsupportedReason })
      if (options.unsupportedLayers !== "unknown-shapes") throw error
      unsupportedLayers.push(error)
    }
    const rule: LayerShapeRule | undefined = unsupported ? opaqueRule : layerShapeRules.get(type)
    if (rule === undefined) {
      throw new UnsupportedLayerError({ layer: name, type, reason: type === "" ? "is missing (layer has no type)" : "is not a known Caffe layer type (type names are case-sensitive)" })
    }
    const configError = (reason: string) => new LayerConfigError({ layer: name, type, reason })
    const bottoms = source.bottom ?? []
    let tops = [...(source.top ?? [])]
    // Loss layers get one automatic top when none is named (LossLayer::AutoTopBlobs).
    if (tops.length === 0 && isLossType(type)) tops = [automaticTops++ === 0 ? "(automatic)" : `(automatic)_${automaticTops - 1}`]
    if (!countRange(bottoms.length, rule.bottoms)) throw configError(`takes ${describeRange(rule.bottoms, "bottom blob(s)")}, got ${bottoms.length}`)
    if (!countRange(tops.length, rule.tops)) throw configError(`produces ${describeRange(rule.tops, "top blob(s)")}, got ${tops.length}`)
    if (rule.equalBottomsTops === true && bottoms.length !== tops.length) {
      throw configError(`needs as many tops as bottoms (${bottoms.length} bottoms, ${tops.length} tops)`)
    }
    const propagateDown = source.propagate_down ?? []
    if (propagateDown.length > 0 && propagateDown.length !== bottoms.length) {
      throw configError(`propagate_down must be specified either 0 or bottom_size (${bottoms.length}) times, got ${propagateDown.length}`)
    }

    // Bottoms: consume available blobs.
    let needBackward = false
    const bottomNeedBackward: boolean[] = []
    const bottomShapes: Array<Shape | null> = []
    bottoms.forEach((blob, j) => {
      if (!available.has(blob)) throw new UnknownBottomError({ layer: name, blob, bottomIndex: j })
      available.delete(blob)
      bottomShapes.push(blobs.get(blob) ?? null)
      const blobNeeds = blobNeedBackward.get(blob) ?? false
      bottomNeedBackward.push(propagateDown.length > 0 ? propagateDown[j]! : blobNeeds)
      needBackward ||= blobNeeds
    })

    // Tops: in place when top[i] == bottom[i]; otherwise a blob name may be produced only once.
    const inPlace = tops.map((blob, j) => {
      if (j < bottoms.length && bottoms[j] === blob) return true
      if (blobs.has(blob)) throw new DuplicateTopError({ layer: name, blob })
      return false
    })

    // Shapes.
    const paramBlobCount = rule.paramCount(source, bottoms.length)
    let shapes: ShapeOutput | undefined
    if (!unsupported && bottomShapes.every((s): s is Shape => s !== null)) {
      const provided = bottoms.length === 0 ? options.dataShapeProvider?.(source, phase) : undefined
      try {
        shapes = rule.infer({ layer: source, phase, bottoms: bottomShapes, bottomNames: bottoms, topNames: tops, provided })
      } catch (e) {
        if (e instanceof ShapeProblem) throw new ShapeError({ layer: name, type, blob: e.blob, reason: e.reason })
        throw e
      }
    }
    let paramShapes: ReadonlyArray<Shape | null>
    if (shapes !== undefined) paramShapes = shapes.params
    else {
      let known: ReadonlyArray<Shape> | undefined
      try {
        known = rule.staticParams?.(source)
      } catch (e) {
        if (e instanceof ShapeProblem) throw new ShapeError({ layer: name, type, blob: e.blob, reason: e.reason })
        throw e
      }
      paramShapes = known ?? Array.from({ length: paramBlobCount }, () => null)
    }
    const topShapes = shapes?.tops ?? tops.map(() => null)
    tops.forEach((blob, j) => {
      blobs.set(blob, topShapes[j] ?? null)
      if (!blob.startsWith("(automatic)")) available.add(blob)
      if (type === "Input") inputs.push(blob)
    })

    // Loss weights (LossLayer::LayerSetUp adds 1 when none is given; Layer::SetLossWeights checks the count).
    const runtime: LayerParameter = { ...source, phase }
    const statedWeights = source.loss_weight ?? []
    if (statedWeights.length === 0 && isLossType(type)) runtime.loss_weight = [1]
    const weights = runtime.loss_weight ?? []
    if (weights.length > 0 && weights.length !== tops.length) {
      throw configError(`loss_weight must be unspecified or specified once per top blob (${weights.length} weights, ${tops.length} tops)`)
    }
    const lossWeights = tops.map((_, j) => Math.fround(weights[j] ?? 0))

    // Parameters.
    const specs = runtimeParamSpecs(source, paramBlobCount)
    if (specs.length > 0) runtime.param = specs
    const firstParam = table.params.length
    table.addLayer(index, name, specs, paramShapes)
    const paramIds = Array.from({ length: paramShapes.length }, (_, k) => firstParam + k)
    // Net::Init reads lr_mult from the net's copy of the layer (not BatchNorm's added specs).
    const paramPropagateDown = paramShapes.map((_, k) => getOr(source.param?.[k], "ParamSpec", "lr_mult") !== 0)
    needBackward ||= paramPropagateDown.some((p) => p)
    if (needBackward) tops.forEach((blob) => blobNeedBackward.set(blob, true))

    drafts.push({
      layer: {
        index,
        name,
        type,
        phase,
        bottom: bottoms,
        top: tops,
        param: runtime,
        isSplit: withSplits.origin[index] === null,
        unsupported,
        inPlace,
        lossWeights,
        topShapes,
        paramShapes,
        paramIds
      },
      needBackward,
      bottomNeedBackward,
      paramPropagateDown
    })
  })

  // Backward pass over the layers (Net::Init): a layer whose tops reach no loss, or whose tops all
  // skip backpropagation, needs no backward.
  const underLoss = new Set<string>()
  const skipBackprop = new Set<string>()
  for (let i = drafts.length - 1; i >= 0; i--) {
    const d = drafts[i]!
    let contributesLoss = false
    let skipPropagateDown = true
    d.layer.top.forEach((blob, j) => {
      if (d.layer.lossWeights[j] !== 0 || underLoss.has(blob)) contributesLoss = true
      if (!skipBackprop.has(blob)) skipPropagateDown = false
    })
    if (d.needBackward && skipPropagateDown) {
      d.needBackward = false
      d.bottomNeedBackward.fill(false)
    }
    if (!contributesLoss) d.needBackward = false
    d.layer.bottom.forEach((blob, j) => {
      if (contributesLoss) underLoss.add(blob)
      else d.bottomNeedBackward[j] = false
      if (!d.bottomNeedBackward[j]) skipBackprop.add(blob)
    })
  }
  if (getOr(net, "NetParameter", "force_backward")) {
    for (const d of drafts) {
      d.needBackward = true
      d.layer.bottom.forEach((_, j) => {
        d.bottomNeedBackward[j] = d.bottomNeedBackward[j]! || allowForceBackward(d.layer.type, j, d.layer.bottom.length)
      })
      d.paramPropagateDown.fill(true)
    }
  }

  const learnable = table.learnable()
  const known = unsupportedLayers.length === 0 && learnable.every((p) => p.shape !== null)
  const paramCount = known ? learnable.reduce((n, p) => n + count(p.shape!), 0) : null
  return {
    name: net.name ?? "",
    state,
    layers: drafts.map((d) => ({ ...d.layer, needBackward: d.needBackward, bottomNeedBackward: d.bottomNeedBackward, paramPropagateDown: d.paramPropagateDown })),
    blobs,
    inputs,
    outputs: [...available].sort(byteCompare),
    params: table.params,
    learnable,
    paramCount,
    unsupported: unsupportedLayers
  }
}
