import { getOr } from "../schema/defaults.js"
import type { LayerParameter, ParamSpec } from "../schema/types.js"
import { ParamSpecError } from "./errors.js"
import { count, sameShape, shapeString, type Shape } from "./shapes/blob-shape.js"

/** One parameter blob of one layer (an entry of Caffe's `Net::params_`). */
export interface NetParam {
  /** Position in the net's parameter list (Caffe's net_param_id). */
  readonly index: number
  readonly layerIndex: number
  readonly layer: string
  /** Index among the layer's blobs. */
  readonly paramIndex: number
  /** `param.name`, or the blob index as a string (Caffe's param_display_names_). */
  readonly displayName: string
  readonly shape: Shape | null
  /** The owning NetParam's index, or -1 when this blob owns itself. */
  readonly owner: number
  /** Index into `learnable` of the blob this one is or shares. */
  readonly learnableIndex: number
}

/** One learnable parameter: an owner blob, in Caffe's `learnable_params_` order. */
export interface LearnableParam {
  readonly index: number
  /** The owner's NetParam index. */
  readonly netParamIndex: number
  readonly layerIndex: number
  readonly layer: string
  readonly paramIndex: number
  /** `param.name` ("" when anonymous). */
  readonly name: string
  readonly shape: Shape | null
  readonly lrMult: number
  readonly decayMult: number
}

interface MutableLearnable {
  index: number
  netParamIndex: number
  layerIndex: number
  layer: string
  paramIndex: number
  name: string
  shape: Shape | null
  lrMult: number
  decayMult: number
  hasLr: boolean
  hasDecay: boolean
}

/**
 * Accumulates Caffe's `Net::AppendParam` over the layers in order: a blob with an empty name, or a
 * name not seen before, is its own learnable parameter; a name seen before shares the first owner's
 * blob (STRICT: equal shapes; PERMISSIVE: equal counts) and must agree on any lr_mult / decay_mult it
 * states (an unstated one is taken from the sharer when the owner did not state it either).
 */
export class ParamTable {
  readonly params: NetParam[] = []
  private readonly learnableMut: MutableLearnable[] = []
  private readonly byName = new Map<string, number>()

  /** Adds the blobs of one layer. `specs` are the layer's runtime ParamSpecs (BatchNorm's lr 0 added). */
  addLayer(layerIndex: number, layerName: string, specs: ReadonlyArray<ParamSpec>, shapes: ReadonlyArray<Shape | null>): void {
    if (specs.length > shapes.length) {
      throw new ParamSpecError({
        layer: layerName,
        param: "",
        reason: `too many params specified for layer (${specs.length} param specs, ${shapes.length} parameter blobs)`
      })
    }
    shapes.forEach((shape, paramIndex) => {
      const spec: ParamSpec = specs[paramIndex] ?? {}
      const name = spec.name ?? ""
      const index = this.params.length
      const ownerIndex = name === "" ? undefined : this.byName.get(name)
      if (ownerIndex === undefined) {
        if (name !== "") this.byName.set(name, index)
        const learnableIndex = this.learnableMut.length
        this.learnableMut.push({
          index: learnableIndex,
          netParamIndex: index,
          layerIndex,
          layer: layerName,
          paramIndex,
          name,
          shape,
          lrMult: Math.fround(getOr(spec, "ParamSpec", "lr_mult")),
          decayMult: Math.fround(getOr(spec, "ParamSpec", "decay_mult")),
          hasLr: spec.lr_mult !== undefined,
          hasDecay: spec.decay_mult !== undefined
        })
        this.params.push({ index, layerIndex, layer: layerName, paramIndex, displayName: name === "" ? String(paramIndex) : name, shape, owner: -1, learnableIndex })
        return
      }
      const owner = this.params[ownerIndex]!
      if (owner.shape !== null && shape !== null) {
        const permissive = spec.share_mode === "PERMISSIVE"
        const ok = permissive ? count(owner.shape) === count(shape) : sameShape(owner.shape, shape)
        if (!ok) {
          throw new ParamSpecError({
            layer: layerName,
            param: name,
            reason: `cannot share param '${name}' owned by layer '${owner.layer}'; ${permissive ? "count" : "shape"} mismatch: owner shape ${shapeString(owner.shape)}, sharing layer expects ${shapeString(shape)}`
          })
        }
      }
      const learnable = this.learnableMut[owner.learnableIndex]!
      if (spec.lr_mult !== undefined) {
        if (learnable.hasLr && learnable.lrMult !== Math.fround(spec.lr_mult)) {
          throw new ParamSpecError({ layer: layerName, param: name, reason: `shared param '${name}' has mismatched lr_mult (${spec.lr_mult} vs ${learnable.lrMult} in layer '${owner.layer}')` })
        }
        learnable.hasLr = true
        learnable.lrMult = Math.fround(spec.lr_mult)
      }
      if (spec.decay_mult !== undefined) {
        if (learnable.hasDecay && learnable.decayMult !== Math.fround(spec.decay_mult)) {
          throw new ParamSpecError({ layer: layerName, param: name, reason: `shared param '${name}' has mismatched decay_mult (${spec.decay_mult} vs ${learnable.decayMult} in layer '${owner.layer}')` })
        }
        learnable.hasDecay = true
        learnable.decayMult = Math.fround(spec.decay_mult)
      }
      this.params.push({ index, layerIndex, layer: layerName, paramIndex, displayName: name, shape, owner: ownerIndex, learnableIndex: owner.learnableIndex })
    })
  }

  learnable(): LearnableParam[] {
    return this.learnableMut.map(({ hasLr: _l, hasDecay: _d, ...p }) => p)
  }
}

/**
 * The ParamSpecs a layer runs with: its own, plus, for BatchNorm, `{lr_mult: 0}` for each statistic
 * blob without a spec (BatchNormLayer::LayerSetUp); a stated non-zero lr_mult there is an error.
 */
export const runtimeParamSpecs = (layer: LayerParameter, blobCount: number): ParamSpec[] => {
  const specs = [...(layer.param ?? [])]
  if (layer.type !== "BatchNorm") return specs
  for (let i = 0; i < blobCount; i++) {
    if (i === specs.length) specs.push({ lr_mult: 0 })
    else if (getOr(specs[i], "ParamSpec", "lr_mult") !== 0) {
      throw new ParamSpecError({
        layer: layer.name ?? "",
        param: specs[i]!.name ?? String(i),
        reason: "cannot configure batch normalization statistics as layer parameters (lr_mult must be 0)"
      })
    }
  }
  return specs
}
