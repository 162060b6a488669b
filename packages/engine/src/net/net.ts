import {
  blobData,
  blobShape,
  buildNetGraph,
  layerShapeRules,
  makeBlobProto,
  MemoryBudget,
  shapeCount,
  shapeEquals,
  upgradeNetAsNeeded,
  type GraphLayer,
  type LayerParameter,
  type NetGraph,
  type NetParameter,
  type NetState,
  type ShapeOutput
} from "@deepspark/caffe"
import type { Backend } from "../backend/backend.js"
import { referenceBackend } from "../backend/reference.js"
import { Blob } from "../core/blob.js"
import { LayerSetupError, type Layer, type LayerServices, type Phase } from "../core/layer.js"
import { createLayer } from "../core/registry.js"
import { Rng } from "../core/rng.js"
import "../layers/index.js"
import { caffeShapeString, logNetFiltering, type NetLogger } from "./net-log.js"

export interface NetOptions {
  /** The NetState to build for (merged by the caller; default: the net's own `state`). */
  readonly state?: NetState
  /** Kernels (default: the reference backend). */
  readonly backend?: Backend
  /** Source of every layer's randomness (fillers, dropout, …); each layer gets a fork. Default seed 1701. */
  readonly rng?: Rng
  /** Services for layers that need them (e.g. `dataSourceFactory` for Data layers). */
  readonly services?: LayerServices
  /** Receives Caffe's net.cpp INFO lines (filtering, per-layer setup, backward needs, outputs). */
  readonly logger?: NetLogger
  /** Refuse the net before allocating if its blobs would need more (default: memoryLimit()). */
  readonly maxMemoryBytes?: number
}

/**
 * Before a layer is set up (and allocates): the memory its parameters and new tops will take (values
 * and gradients, float32), inferred from the real bottom shapes by the caffe package's shape rules,
 * added to the net's running total and refused at the first blob that takes it over the limit, naming
 * the layer and the blob. Tops of unknown shape (data read from disk) are checked where their batches
 * are sized (the data package's batch source).
 */
const reserveLayerMemory = (budget: MemoryBudget, gl: GraphLayer, bottom: ReadonlyArray<Blob>): void => {
  const rule = layerShapeRules.get(gl.type)
  if (!rule) return
  let shapes: ShapeOutput
  try {
    shapes = rule.infer({ layer: gl.param, phase: gl.phase, bottoms: bottom.map((b) => b.shape), bottomNames: gl.bottom, topNames: gl.top, provided: undefined })
  } catch {
    return // a configuration the layer's own setup reports, with its own message
  }
  const times = (shape: ReadonlyArray<number>) => shape.join("×")
  shapes.params.forEach((shape, k) => budget.reserve({ layer: gl.name, type: gl.type, blob: `parameter blob ${k} (${times(shape)})`, bytes: shapeCount(shape) * 8 }))
  shapes.tops.forEach((shape, j) => {
    if (shape && !gl.inPlace[j]) budget.reserve({ layer: gl.name, type: gl.type, blob: `top "${gl.top[j]}" (${times(shape)})`, bytes: shapeCount(shape) * 8 })
  })
}

/** One learnable parameter (an owner blob, in Caffe's learnable_params_ order). */
export interface NetLearnableParam {
  readonly blob: Blob
  readonly lrMult: number
  readonly decayMult: number
  readonly layerName: string
  /** `param.name`, or "" when anonymous. */
  readonly name: string
}

export interface NetOutput {
  readonly name: string
  readonly blob: Blob
  /** The blob's weight in the loss (0 for outputs such as accuracy). */
  readonly lossWeight: number
}

export interface CopyTrainedLayersOptions {
  /** Receives Caffe's info lines (`Ignoring source layer X`). */
  readonly log?: (line: string) => void
  /** The weights file, named in errors. */
  readonly file?: string
}

/** A weights file does not fit the net (blob count or shape). */
export class WeightsMismatchError extends Error {
  readonly _tag = "WeightsMismatchError"
  constructor(
    readonly layerName: string,
    readonly detail: string,
    readonly file: string | undefined
  ) {
    super(`${file !== undefined ? `${file}: ` : ""}layer "${layerName}": ${detail}`)
    this.name = "WeightsMismatchError"
  }
}

/**
 * Caffe's Net: layers built from a NetParameter for one NetState (filtering, Split insertion, in-place
 * tops, loss weights, backward needs and parameter sharing all come from the caffe package's
 * `buildNetGraph`), set up in order on real blobs, then run forward/backward.
 */
export class Net {
  readonly name: string
  readonly phase: Phase
  readonly graph: NetGraph
  readonly layers: ReadonlyArray<Layer>
  readonly layerNames: ReadonlyArray<string>
  readonly backend: Backend
  private readonly blobs = new Map<string, Blob>()
  private readonly bottomVecs: Blob[][] = []
  private readonly topVecs: Blob[][] = []
  private readonly learnable: NetLearnableParam[]
  private readonly outputs: NetOutput[]

  constructor(param: NetParameter, options: NetOptions = {}) {
    const graphOptions = options.state !== undefined ? { state: options.state } : {}
    this.graph = buildNetGraph(param, graphOptions)
    this.name = this.graph.name
    this.phase = this.graph.state.phase
    this.backend = options.backend ?? referenceBackend
    const rng = options.rng ?? new Rng(1701)
    const services = options.services ?? {}
    const layers: Layer[] = []
    const log = options.logger
    if (log) logNetFiltering(param, options.state, log)
    const budget = new MemoryBudget(options.maxMemoryBytes)
    let memoryUsed = 0

    for (const gl of this.graph.layers) {
      if (log) {
        log.info(`Creating layer ${gl.name}`, "layer_factory.hpp:77")
        log.info(`Creating Layer ${gl.name}`, "net.cpp:86")
        gl.bottom.forEach((b) => log.info(`${gl.name} <- ${b}`, "net.cpp:408"))
        gl.top.forEach((t, j) => log.info(gl.inPlace[j] ? `${gl.name} -> ${t} (in-place)` : `${gl.name} -> ${t}`, gl.inPlace[j] ? "net.cpp:369" : "net.cpp:382"))
      }
      const layer = createLayer(gl.param, { phase: gl.phase, backend: this.backend, rng: rng.fork(), services })
      const bottom = gl.bottom.map((name, j) => {
        const b = this.blobs.get(name)
        if (!b) throw new LayerSetupError(gl.name, gl.type, `unknown bottom blob "${name}" (bottom ${j})`)
        return b
      })
      const top = gl.top.map((name, j) => {
        if (gl.inPlace[j]) return bottom[j]!
        const b = new Blob([], this.backend.allocator)
        this.blobs.set(name, b)
        return b
      })
      reserveLayerMemory(budget, gl, bottom)
      try {
        layer.setUp(bottom, top)
      } catch (e) {
        // Name the layer and its bottom blobs (with their shapes) whatever the layer threw.
        const detail = e instanceof LayerSetupError ? e.detail : (e as Error).message
        throw new LayerSetupError(gl.name, gl.type, `${detail} (bottoms: ${describeBlobs(gl.bottom, bottom)})`)
      }
      if (layer.blobs.length !== gl.paramShapes.length)
        throw new LayerSetupError(gl.name, gl.type, `created ${layer.blobs.length} parameter blobs, the net graph expects ${gl.paramShapes.length}`)
      // Parameters move into the backend's memory before anything shares them.
      for (const b of layer.blobs) b.useAllocator(this.backend.allocator)
      this.loadLayerBlobs(gl, layer)
      gl.paramPropagateDown.forEach((p, k) => layer.setParamPropagateDown(k, p))
      this.shareOwnedParams(gl, layer, layers)
      gl.lossWeights.forEach((w, j) => {
        if (w !== 0) top[j]!.diff.fill(w, 0, top[j]!.count)
      })
      if (log) {
        if (gl.type === "Data") log.info(`output data size: ${top[0]!.shape.join(",")}`, "data_layer.cpp:45")
        // SoftmaxWithLoss creates its internal Softmax layer during setup.
        if (gl.type === "SoftmaxWithLoss") log.info(`Creating layer ${gl.name}`, "layer_factory.hpp:77")
        log.info(`Setting up ${gl.name}`, "net.cpp:124")
        top.forEach((t, j) => {
          log.info(`Top shape: ${caffeShapeString(t.shape)}`, "net.cpp:131")
          if (gl.lossWeights[j] !== 0) log.info(`    with loss weight ${gl.lossWeights[j]}`, "net.cpp:134")
          memoryUsed += t.count
        })
        log.info(`Memory required for data: ${memoryUsed * 4}`, "net.cpp:139")
      }
      layers.push(layer)
      this.bottomVecs.push(bottom)
      this.topVecs.push(top)
    }
    this.layers = layers
    this.layerNames = this.graph.layers.map((l) => l.name)

    this.learnable = this.graph.learnable.map((p) => ({
      blob: layers[p.layerIndex]!.blobs[p.paramIndex]!,
      lrMult: p.lrMult,
      decayMult: p.decayMult,
      layerName: p.layer,
      name: p.name
    }))
    const weightOf = new Map<string, number>()
    this.graph.layers.forEach((gl) => gl.top.forEach((t, j) => weightOf.set(t, gl.lossWeights[j] ?? 0)))
    this.outputs = this.graph.outputs.map((name) => ({ name, blob: this.blobs.get(name)!, lossWeight: weightOf.get(name) ?? 0 }))
    if (log) {
      for (let i = this.graph.layers.length - 1; i >= 0; i--) {
        const gl = this.graph.layers[i]!
        if (gl.needBackward) log.info(`${gl.name} needs backward computation.`, "net.cpp:200")
        else log.info(`${gl.name} does not need backward computation.`, "net.cpp:202")
      }
      for (const o of this.outputs) log.info(`This network produces output ${o.name}`, "net.cpp:244")
      log.info("Network initialization done.", "net.cpp:257")
    }
  }

  /** Runs every layer (reshape, then forward, as Caffe's Layer::Forward); returns Σ weight·top over loss tops. */
  forward(): number {
    return this.forwardFromTo(0, this.layers.length - 1)
  }

  /** Caffe's ForwardFromTo: layers start..end inclusive; returns their share of the loss. */
  forwardFromTo(start: number, end: number): number {
    let loss = 0
    for (let i = start; i <= end; i++) {
      const gl = this.graph.layers[i]!
      const layer = this.layers[i]!
      const bottom = this.bottomVecs[i]!
      const top = this.topVecs[i]!
      layer.reshape(bottom, top)
      layer.forward(bottom, top)
      gl.lossWeights.forEach((w, j) => {
        if (w === 0) return
        const t = top[j]!
        // The loss top's diff holds its weight (what the loss layer's backward scales by). Summed in
        // float64 (Caffe sums in float32; identical for one loss top, and finite differences of the
        // net's loss stay precise).
        t.diff.fill(w, 0, t.count)
        loss += this.backend.dot(t.count, t.data, 0, t.diff, 0)
      })
    }
    return loss
  }

  /** Backward through the layers that need it, accumulating into parameter diffs. */
  backward(): void {
    this.backwardFromTo(this.layers.length - 1, 0)
  }

  /** Caffe's BackwardFromTo: layers start down to end inclusive (start ≥ end). */
  backwardFromTo(start: number, end: number): void {
    for (let i = start; i >= end; i--) {
      const gl = this.graph.layers[i]!
      if (!gl.needBackward) continue
      this.layers[i]!.backward(this.topVecs[i]!, gl.bottomNeedBackward as boolean[], this.bottomVecs[i]!)
    }
  }

  /** Caffe's Net::Reshape: every layer reshapes its tops from its bottoms (after an input changed shape). */
  reshape(): void {
    this.layers.forEach((layer, i) => layer.reshape(this.bottomVecs[i]!, this.topVecs[i]!))
  }

  /** Bottom and top blobs of layer i (Caffe's bottom_vecs / top_vecs), for per-layer timing and inspection. */
  layerBlobs(i: number): { readonly bottom: ReadonlyArray<Blob>; readonly top: ReadonlyArray<Blob> } {
    return { bottom: this.bottomVecs[i]!, top: this.topVecs[i]! }
  }

  forwardBackward(): number {
    const loss = this.forward()
    this.backward()
    return loss
  }

  /** Zeroes the diffs of the learnable (owner) parameters. */
  clearParamDiffs(): void {
    for (const p of this.learnable) p.blob.zeroDiff()
  }

  learnableParams(): ReadonlyArray<NetLearnableParam> {
    return this.learnable
  }

  /** Tops no layer consumes, in byte-wise sorted name order (`#k` in Caffe's logs). */
  outputBlobs(): ReadonlyArray<NetOutput> {
    return this.outputs
  }

  /** Tops of Input layers, in order (Caffe's net_input_blobs_): fill these before forward. */
  inputBlobs(): ReadonlyArray<{ readonly name: string; readonly blob: Blob }> {
    return this.graph.inputs.map((name) => ({ name, blob: this.blobs.get(name)! }))
  }

  blobByName(name: string): Blob | undefined {
    return this.blobs.get(name)
  }

  blobNames(): string[] {
    return [...this.blobs.keys()]
  }

  /** The first layer with this name (duplicate names are legal in Caffe). */
  layerByName(name: string): Layer | undefined {
    const i = this.layerNames.indexOf(name)
    return i < 0 ? undefined : this.layers[i]
  }

  /**
   * Caffe's Net::CopyTrainedLayersFrom: for each source layer, the first layer of this net with its
   * name receives its blobs (shapes compared with Caffe's ShapeEquals, so legacy 4-D dims match);
   * unknown names are logged as `Ignoring source layer X`.
   */
  copyTrainedLayersFrom(weights: NetParameter, options: CopyTrainedLayersOptions = {}): void {
    // Old (V0/V1) caffemodels are upgraded first, as Caffe's ReadNetParamsFromBinaryFileOrDie does.
    const upgraded = (weights.layers?.length ?? 0) > 0 ? upgradeNetAsNeeded(weights, options.file !== undefined ? { file: options.file } : {}) : weights
    for (const source of upgraded.layer ?? []) {
      const name = source.name ?? ""
      const target = this.layerByName(name)
      if (!target) {
        options.log?.(`Ignoring source layer ${name}`)
        continue
      }
      const sourceBlobs = source.blobs ?? []
      if (sourceBlobs.length !== target.blobs.length)
        throw new WeightsMismatchError(name, `incompatible number of blobs: the weights have ${sourceBlobs.length}, the net has ${target.blobs.length}`, options.file)
      target.blobs.forEach((blob, j) => {
        const proto = sourceBlobs[j]!
        if (!shapeEquals(proto, blob.shape))
          throw new WeightsMismatchError(
            name,
            `cannot copy param ${j} weights; shape mismatch. Source param shape is ${blobShape(proto).join(" ")} (${blobShape(proto).reduce((a, b) => a * b, 1)}); target param shape is ${blob.shapeString()}. To learn this layer's parameters from scratch rather than copying from a saved net, rename the layer.`,
            options.file
          )
        blob.data.set(blobData(proto))
      })
    }
  }

  /**
   * Caffe's Net::ToProto: `name` and every layer's runtime parameter (phase, loss_weight of loss layers,
   * inserted Splits) with its blobs as BlobProto `shape` + `data` (+ `diff` when writeDiff).
   */
  toProto(options: { readonly writeDiff?: boolean } = {}): NetParameter {
    const layer: LayerParameter[] = this.graph.layers.map((gl, i) => {
      const { blobs: _ignored, ...rest } = gl.param
      const l = this.layers[i]!
      const out: LayerParameter = { ...rest }
      if (l.blobs.length > 0)
        out.blobs = l.blobs.map((b) =>
          makeBlobProto(b.shape, b.data.slice(0, b.count), options.writeDiff ? b.diff.slice(0, b.count) : undefined)
        )
      return out
    })
    const net: NetParameter = {}
    if (this.name !== "") net.name = this.name
    net.layer = layer
    return net
  }

  /**
   * Makes this net's layers use `other`'s parameter storage, matched by layer name (Caffe's
   * ShareTrainedLayersWith: how test nets see the train net's weights).
   */
  shareTrainedLayersWith(other: Net): void {
    other.layers.forEach((source, i) => {
      const name = other.layerNames[i]!
      const target = this.layerByName(name)
      if (!target) return
      if (source.blobs.length !== target.blobs.length)
        throw new WeightsMismatchError(name, `incompatible number of blobs: ${source.blobs.length} in the source net, ${target.blobs.length} here`, undefined)
      target.blobs.forEach((blob, j) => {
        const s = source.blobs[j]!
        if (s.shape.length !== blob.shape.length || s.shape.some((d, k) => d !== blob.shape[k]))
          throw new WeightsMismatchError(name, `cannot share param ${j}: source shape ${s.shapeString()}, target shape ${blob.shapeString()}`, undefined)
        blob.shareData(s)
      })
    })
  }

  /** Layer-parameter blobs given in the prototxt itself replace the fillers' values. */
  private loadLayerBlobs(gl: GraphLayer, layer: Layer): void {
    const given = gl.param.blobs ?? []
    if (given.length === 0) return
    if (given.length !== layer.blobs.length)
      throw new LayerSetupError(gl.name, gl.type, `has ${given.length} blobs in its parameter, the layer creates ${layer.blobs.length}`)
    given.forEach((proto, j) => {
      const blob = layer.blobs[j]!
      if (!shapeEquals(proto, blob.shape))
        throw new LayerSetupError(gl.name, gl.type, `blob ${j} in the layer parameter has shape ${blobShape(proto).join(" ")}, the layer expects ${blob.shapeString()}`)
      blob.data.set(blobData(proto))
    })
  }

  /** Shared parameters (same non-empty ParamSpec name) use the owner's data and diff storage. */
  private shareOwnedParams(gl: GraphLayer, layer: Layer, earlier: Layer[]): void {
    gl.paramIds.forEach((id, k) => {
      const p = this.graph.params[id]!
      if (p.owner < 0) return
      const ownerParam = this.graph.params[p.owner]!
      const owner = (ownerParam.layerIndex === gl.index ? layer : earlier[ownerParam.layerIndex]!).blobs[ownerParam.paramIndex]!
      const blob = layer.blobs[k]!
      const permissive = gl.param.param?.[k]?.share_mode === "PERMISSIVE"
      const ok = permissive ? owner.count === blob.count : owner.shape.length === blob.shape.length && owner.shape.every((d, i) => d === blob.shape[i])
      if (!ok)
        throw new LayerSetupError(
          gl.name,
          gl.type,
          `cannot share param '${p.displayName}' owned by layer '${ownerParam.layer}'; ${permissive ? "count" : "shape"} mismatch: owner ${owner.shapeString()}, this layer ${blob.shapeString()}`
        )
      blob.shareData(owner)
      blob.shareDiff(owner)
    })
  }
}

const describeBlobs = (names: ReadonlyArray<string>, blobs: Blob[]): string =>
  names.length === 0 ? "(none)" : names.map((n, i) => `${n} [${blobs[i]!.shape.join(", ")}]`).join(", ")
