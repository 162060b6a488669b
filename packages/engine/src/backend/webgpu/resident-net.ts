/// <reference types="@webgpu/types" />
/**
 * A Net executed on a WebGPU device with device-resident tensors. The host Net supplies the graph, the
 * shapes its layers resolved at setup, the initial parameters and its source layers (Data, Input, …:
 * they read files on the host); every blob then lives in a GPU buffer for the whole run, layers chain
 * WGSL kernels on the device, and per iteration only the new input batch goes to the device and only
 * the scalar outputs (the loss) come back. The learnable parameters live in one contiguous arena (their
 * diffs and the solver history in two more), so an exchange with the center is one copy each way.
 *
 * Layers on the device: Caffe's ★ layers (the list is in plan()'s refusal); solvers: SGD, Nesterov,
 * AdaGrad, RMSProp, AdaDelta, Adam. Any other layer is refused at build time with its name (those nets
 * train on the cpu backend).
 */
import { getOr } from "@deepspark/caffe"
import { Data } from "effect"
import type { Blob } from "../../core/blob.js"
import type { BaseConvolutionLayer } from "../../layers/base-convolution.js"
import { normalizationMode } from "../../layers/loss-layer.js"
import type { PoolingLayer } from "../../layers/pooling.js"
import type { Net } from "../../net/net.js"
import type { UpdateSettings } from "../../solvers/update-settings.js"
import { type Dispatch, type GpuContext } from "./gpu-context.js"
import * as L from "./wgsl-layer-kernels.js"
import * as C from "./wgsl-conv-kernels.js"
import * as K from "./wgsl-kernels.js"

export class ResidentNetUnsupported extends Data.TaggedError("ResidentNetUnsupported")<{ readonly layer: string; readonly type: string; readonly reason: string }> {
  override get message(): string {
    return `gpu backend (device-resident): layer ${this.layer} (${this.type}): ${this.reason}`
  }
}

/** The solver settings the device's update kernels cannot follow, refused with the reason (checked at start-up too). */
export const refuseUnsupportedSolver = (s: UpdateSettings): void => {
  const refuse = (reason: string) => new ResidentNetUnsupported({ layer: "(solver)", type: s.type, reason })
  if (s.regularizationType !== "L2" && s.weightDecay !== 0) throw refuse("L1 regularisation is not on the device yet")
  if (s.clipGradients >= 0) throw refuse("clip_gradients is not on the device yet")
}

interface DeviceBlob {
  data: GPUBuffer
  diff: GPUBuffer
  readonly count: number
}

type Step =
  | { readonly kind: "run"; readonly d: Dispatch }
  | { readonly kind: "clear"; readonly buffer: GPUBuffer }
  | { readonly kind: "copy"; readonly from: GPUBuffer; readonly to: GPUBuffer; readonly floats: number }

/** A convolution's kernel shape (Convolution, and Deconvolution seen as the convolution it transposes). */
const convShape = (
  s: ReturnType<BaseConvolutionLayer["resolvedSettings"]>,
  numOutput: number,
  weightOffset: number,
  biasOffset: number
): K.ConvShape => {
  const g = s.geometry
  return {
    num: s.num,
    channels: g.channels,
    height: g.height,
    width: g.width,
    numOutput,
    group: s.group,
    kernelH: g.kernelH,
    kernelW: g.kernelW,
    padH: g.padH,
    padW: g.padW,
    strideH: g.strideH,
    strideW: g.strideW,
    dilationH: g.dilationH,
    dilationW: g.dilationW,
    outH: g.outH,
    outW: g.outW,
    weightOffset,
    biasOffset
  }
}

const SOURCE_TYPES = new Set(["Data", "Input", "DummyData", "MemoryData", "ImageData", "HDF5Data", "WindowData"])

export class ResidentNet {
  readonly paramCount: number
  /** Parameter values, their diffs and the SGD history: one contiguous arena each. */
  readonly paramData: GPUBuffer
  readonly paramDiff: GPUBuffer
  readonly history: GPUBuffer
  /** The second history (AdaDelta, Adam), allocated on first use. */
  private history2: GPUBuffer | undefined
  private readonly offsets = new Map<Float32Array, number>()
  private readonly blobs = new Map<Blob, DeviceBlob>()
  private readonly forwardSteps: Step[] = []
  /** Backward kernels, in reverse layer order (each layer's own kernels in their order). */
  private readonly backwardSteps: Step[] = []
  private layerBackward: Step[] = []
  /** Each layer's own forward and backward kernels (per-layer timing). */
  private readonly forwardByLayer: Step[][] = []
  private readonly backwardByLayer: Step[][] = []
  private readonly sourceLayers: number[] = []
  /** Scalar tops to read after forward: [name, buffer, loss weight]. */
  private readonly outputs: Array<{ readonly name: string; readonly buffer: GPUBuffer; readonly lossWeight: number }> = []
  private readonly rates: GPUBuffer
  /** The iteration's random seed (Dropout), written with every batch. */
  private readonly seed: GPUBuffer
  private iteration = 0
  private centerBuffer: GPUBuffer | undefined
  private elastic: { readonly alpha: number; readonly d: Dispatch } | undefined
  private readonly rateValues: Float32Array
  /** The update kernels, built for the solver type of the first update. */
  private update: { readonly type: string; readonly steps: ReadonlyArray<Dispatch> } | undefined

  constructor(
    readonly ctx: GpuContext,
    readonly net: Net
  ) {
    const params = net.learnableParams()
    let offset = 0
    for (const p of params) {
      this.offsets.set(p.blob.data, offset)
      offset += p.blob.count
    }
    this.paramCount = offset
    // One arena is bound whole: it must fit the adapter's largest storage binding (2 GiB on NVIDIA's
    // Vulkan driver, 128 MiB on lavapipe, which is too small for AlexNet's 61 M parameters).
    const limit = ctx.adapter.maxStorageBufferBindingSize
    if (offset * 4 > limit) {
      throw new ResidentNetUnsupported({ layer: "(parameters)", type: net.name, reason: `the parameter arena (${(offset * 4 / 2 ** 20).toFixed(0)} MiB) exceeds this adapter's largest storage buffer binding (${(limit / 2 ** 20).toFixed(0)} MiB)` })
    }
    this.seed = ctx.uniform(16, "seed")
    this.paramData = ctx.buffer(offset, "params")
    this.paramDiff = ctx.buffer(offset, "param diffs")
    this.history = ctx.buffer(offset, "solver history")
    this.writeParams(this.hostParams())
    this.rates = ctx.uniform(16 * (1 + Math.max(1, params.length)), "solver rates")
    this.rateValues = new Float32Array(4 * (1 + Math.max(1, params.length)))
    net.layers.forEach((_, i) => {
      this.layerBackward = []
      const forwardFrom = this.forwardSteps.length
      this.plan(i)
      this.forwardByLayer.push(this.forwardSteps.slice(forwardFrom))
      this.backwardByLayer.push(this.layerBackward)
      this.backwardSteps.unshift(...this.layerBackward)
    })
    for (const o of net.outputBlobs()) {
      if (o.blob.count !== 1) continue
      this.outputs.push({ name: o.name, buffer: this.device(o.blob).data, lossWeight: o.lossWeight })
    }
  }

  /** The learnable parameters as one host array, in learnable_params order. */
  private hostParams(): Float32Array {
    const all = new Float32Array(this.paramCount)
    for (const p of this.net.learnableParams()) all.set(p.blob.data.subarray(0, p.blob.count), this.offsets.get(p.blob.data)!)
    return all
  }

  private device(blob: Blob): DeviceBlob {
    let d = this.blobs.get(blob)
    if (!d) {
      const limit = this.ctx.adapter.maxStorageBufferBindingSize
      if (blob.count * 4 > limit) throw new ResidentNetUnsupported({ layer: "(blob)", type: this.net.name, reason: `a blob of ${blob.count} values exceeds this adapter's largest storage buffer binding (${(limit / 2 ** 20).toFixed(0)} MiB)` })
      d = { data: this.ctx.buffer(blob.count), diff: this.ctx.buffer(blob.count), count: blob.count }
      this.blobs.set(blob, d)
    }
    return d
  }

  private paramOffset(layerName: string, type: string, blob: Blob | undefined): number {
    if (!blob) return -1
    const o = this.offsets.get(blob.data)
    if (o === undefined) throw new ResidentNetUnsupported({ layer: layerName, type, reason: "a parameter blob that is not one of the net's learnable parameters" })
    return o
  }

  private plan(i: number): void {
    const net = this.net
    const layer = net.layers[i]!
    const gl = net.graph.layers[i]!
    const name = gl.name
    const type = layer.type
    const { bottom, top } = net.layerBlobs(i)
    const ctx = this.ctx
    const fwd = (source: string, bindings: ReadonlyArray<GPUBuffer | [GPUBuffer, "read" | "rw"]>, threads: number, into = this.forwardSteps): void => {
      const last = bindings.length - 1
      into.push({
        kind: "run",
        d: ctx.dispatch(
          source,
          bindings.map((b, k) => (Array.isArray(b) ? { buffer: b[0], access: b[1] } : { buffer: b, access: k === last ? "rw" : "read" })),
          threads
        )
      })
    }
    const bwd = (source: string, bindings: ReadonlyArray<GPUBuffer | [GPUBuffer, "read" | "rw"]>, threads: number): void => fwd(source, bindings, threads, this.layerBackward)
    const needBackward = gl.needBackward
    const downTo = (j: number): boolean => needBackward && gl.bottomNeedBackward[j] === true
    const unsupported = (reason: string) => new ResidentNetUnsupported({ layer: name, type, reason })
    // A convolution's image → output product (forward) and output diff → image diff (bottom diff): through a
    // column matrix (one scratch buffer per layer, shared by both) where it fits, else the tiled direct kernels.
    let columns: GPUBuffer | undefined
    const columnBuffer = (shape: K.ConvShape): GPUBuffer => (columns ??= ctx.buffer(C.columnCount(shape), `${name} columns`))
    const convProduct = (shape: K.ConvShape, x: GPUBuffer, y: GPUBuffer, into: Step[]): void => {
      if (!C.usesColumns(shape)) {
        const k = C.convForwardTiled(shape)
        return fwd(k.source, [x, this.paramData, y], k.threads, into)
      }
      const col = columnBuffer(shape)
      const unfold = C.im2col(shape)
      fwd(unfold.source, [x, col], unfold.threads, into)
      const k = C.convForwardColumns(shape)
      fwd(k.source, [col, this.paramData, y], k.threads, into)
    }
    const convTransposedProduct = (shape: K.ConvShape, dy: GPUBuffer, dx: GPUBuffer, into: Step[]): void => {
      if (!C.usesColumns(shape)) {
        const k = C.convBackwardDataTiled(shape)
        return fwd(k.source, [dy, this.paramData, dx], k.threads, into)
      }
      const col = columnBuffer(shape)
      const k = C.convBackwardColumns(shape)
      fwd(k.source, [dy, this.paramData, col], k.threads, into)
      const fold = C.col2im(shape)
      fwd(fold.source, [col, dx], fold.threads, into)
    }
    // The weight diff of a convolution from its top diff `dy` and its image `x`: one kernel, or per-chunk partial banks and their sum.
    // `fromColumns`: the forward's column matrix of x is still in the layer's scratch (a Convolution with one bottom).
    const convWeightDiff = (shape: K.ConvShape, dy: GPUBuffer, x: GPUBuffer, fromColumns = false): void => {
      const { chunks } = C.convWeightChunks(shape)
      const columnsKept = fromColumns && C.usesColumns(shape)
      const k = columnsKept ? C.convWeightColumns(shape) : C.convBackwardWeightTiled(shape)
      if (columnsKept) x = columnBuffer(shape)
      if (chunks === 1) return bwd(k.source, [dy, x, this.paramDiff], k.threads)
      const partial = ctx.buffer(chunks * layer.blobs[0]!.count, `${name} weight diff chunks`)
      bwd(k.source, [dy, x, partial], k.threads)
      const sum = C.convWeightChunkSum(shape)
      bwd(sum.source, [partial, this.paramDiff], sum.threads)
    }

    if (bottom.length === 0 && SOURCE_TYPES.has(type)) {
      this.sourceLayers.push(i)
      for (const t of top) this.device(t)
      return
    }
    switch (type) {
      case "Convolution": {
        const s = (layer as BaseConvolutionLayer).resolvedSettings()
        const shape = convShape(s, s.numOutput, this.paramOffset(name, type, layer.blobs[0]), s.biasTerm ? this.paramOffset(name, type, layer.blobs[1]) : -1)
        bottom.forEach((b, j) => {
          const x = this.device(b)
          const y = this.device(top[j]!)
          convProduct(shape, x.data, y.data, this.forwardSteps)
        })
        if (!needBackward) return
        // Caffe's order: bias diff, weight diff, then bottom diff, per bottom.
        bottom.forEach((b, j) => {
          const x = this.device(b)
          const y = this.device(top[j]!)
          if (shape.biasOffset >= 0) bwd(K.channelSumInto(shape.num, shape.numOutput, shape.outH * shape.outW, shape.biasOffset), [y.diff, this.paramDiff], shape.numOutput)
          convWeightDiff(shape, y.diff, x.data, bottom.length === 1)
          if (downTo(j)) convTransposedProduct(shape, y.diff, x.diff, this.layerBackward)
        })
        return
      }
      case "InnerProduct": {
        const p = layer.param.inner_product_param
        const axis = bottom[0]!.canonicalAxis(getOr(p, "InnerProductParameter", "axis"))
        const biasTerm = getOr(p, "InnerProductParameter", "bias_term")
        const shape: K.InnerProductShape = {
          M: bottom[0]!.countRange(0, axis),
          K: bottom[0]!.countRange(axis),
          N: getOr(p, "InnerProductParameter", "num_output"),
          transpose: getOr(p, "InnerProductParameter", "transpose"),
          weightOffset: this.paramOffset(name, type, layer.blobs[0]),
          biasOffset: biasTerm ? this.paramOffset(name, type, layer.blobs[1]) : -1
        }
        const x = this.device(bottom[0]!)
        const y = this.device(top[0]!)
        const { M, N, K: k, transpose, weightOffset, biasOffset } = shape
        const gemm = (g: K.GemmShape, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, into: Step[]): void => {
          const kernel = K.gemmFor(ctx.adapter.software)
          const [gx, gy] = kernel.groups(g)
          const shape = ctx.uniform(32, `${name} gemm`)
          ctx.write(shape, K.gemmUniform(g))
          into.push({ kind: "run", d: ctx.dispatchGroups(kernel.source(g), [{ buffer: a, access: "read" }, { buffer: b, access: "read" }, { buffer: c, access: "rw" }, { buffer: shape, access: "uniform" }], gx, gy) })
        }
        const at = { aOffset: 0, bOffset: 0, cOffset: 0 }
        // y = x·op(W) (W is N×K, or K×N with transpose), then + b.
        gemm({ ...at, M, N, K: k, transA: false, transB: !transpose, bOffset: weightOffset, accumulate: false }, x.data, this.paramData, y.data, this.forwardSteps)
        if (biasOffset >= 0) fwd(K.addBias(M, N, biasOffset), [this.paramData, y.data], M * N)
        if (!needBackward) return
        if (biasOffset >= 0) bwd(K.channelSumInto(M, N, 1, biasOffset), [y.diff, this.paramDiff], N)
        // dW += dyᵀ·x (N×K), or xᵀ·dy (K×N) with transpose.
        if (transpose) gemm({ ...at, M: k, N, K: M, transA: true, transB: false, cOffset: weightOffset, accumulate: true }, x.data, y.diff, this.paramDiff, this.layerBackward)
        else gemm({ ...at, M: N, N: k, K: M, transA: true, transB: false, cOffset: weightOffset, accumulate: true }, y.diff, x.data, this.paramDiff, this.layerBackward)
        // dx = dy·W (M×K), W read as its transpose when stored K×N.
        if (downTo(0)) gemm({ ...at, M, N: k, K: N, transA: false, transB: transpose, bOffset: weightOffset, accumulate: false }, y.diff, this.paramData, x.diff, this.layerBackward)
        return
      }
      case "Pooling": {
        const { method, geometry: g } = (layer as PoolingLayer).resolvedSettings()
        const shape: K.PoolShape = { ...g, planes: g.num * g.channels }
        const x = this.device(bottom[0]!)
        const y = this.device(top[0]!)
        if (method === "STOCHASTIC") {
          if (net.phase !== "TRAIN") {
            fwd(L.stochasticPoolForward(shape, false, i), [x.data, y.data], top[0]!.count)
            if (downTo(0)) throw unsupported("STOCHASTIC pooling has no backward in TEST (as Caffe)")
            return
          }
          const mask = ctx.buffer(top[0]!.count, `${name} mask`)
          fwd(L.stochasticPoolForward(shape, true, i), [[this.seed, "read"], [x.data, "read"], [y.data, "rw"], [mask, "rw"]], top[0]!.count)
          if (downTo(0)) bwd(L.stochasticPoolBackward(shape), [mask, y.diff, x.diff], bottom[0]!.count)
          return
        }
        if (method === "AVE") {
          fwd(K.avePoolForward(shape), [x.data, y.data], top[0]!.count)
          if (downTo(0)) bwd(K.avePoolBackward(shape), [y.diff, x.diff], bottom[0]!.count)
          return
        }
        const mask = ctx.buffer(top[0]!.count, `${name} mask`)
        fwd(K.maxPoolForward(shape), [[x.data, "read"], [y.data, "rw"], [mask, "rw"]], top[0]!.count)
        if (downTo(0)) bwd(K.maxPoolBackward(shape), [y.diff, mask, x.diff], bottom[0]!.count)
        return
      }
      case "ReLU": {
        const slope = getOr(layer.param.relu_param, "ReLUParameter", "negative_slope")
        const x = this.device(bottom[0]!)
        const y = this.device(top[0]!)
        const inPlace = bottom[0] === top[0]
        const n = bottom[0]!.count
        fwd(K.reluForward(n, slope, inPlace), inPlace ? [y.data] : [x.data, y.data], n)
        if (downTo(0)) bwd(K.reluBackward(n, slope, inPlace), inPlace ? [x.data, x.diff] : [x.data, y.diff, x.diff], n)
        return
      }
      case "Sigmoid":
      case "TanH": {
        const x = this.device(bottom[0]!)
        const y = this.device(top[0]!)
        const inPlace = bottom[0] === top[0]
        const n = bottom[0]!.count
        fwd(K.unaryLayerForward(type, n, inPlace), inPlace ? [y.data] : [x.data, y.data], n)
        if (downTo(0)) bwd(K.unaryLayerBackward(type, n, inPlace), inPlace ? [y.data, x.diff] : [y.data, y.diff, x.diff], n)
        return
      }
      case "Dropout": {
        const x = this.device(bottom[0]!)
        const inPlace = bottom[0] === top[0]
        if (net.phase !== "TRAIN") {
          // TEST: the identity; the top shares the bottom's buffers.
          if (!inPlace) this.blobs.set(top[0]!, x)
          return
        }
        const y = this.device(top[0]!)
        const ratio = getOr(layer.param.dropout_param, "DropoutParameter", "dropout_ratio")
        const scale = Math.fround(1 / (1 - ratio))
        const n = bottom[0]!.count
        const mask = ctx.buffer(n, `${name} mask`)
        const seed: [GPUBuffer, "read"] = [this.seed, "read"]
        fwd(K.dropoutForward(n, ratio, scale, i, inPlace), inPlace ? [seed, [y.data, "rw"], [mask, "rw"]] : [seed, [x.data, "read"], [y.data, "rw"], [mask, "rw"]], n)
        if (downTo(0)) bwd(K.dropoutBackward(n, scale, inPlace), inPlace ? [mask, x.diff] : [mask, y.diff, x.diff], n)
        return
      }
      case "LRN": {
        const p = layer.param.lrn_param
        const b = bottom[0]!
        if (getOr(p, "LRNParameter", "norm_region") === "WITHIN_CHANNEL") {
          const within = { planes: b.num * b.channels, height: b.shape[2]!, width: b.shape[3]!, size: getOr(p, "LRNParameter", "local_size"), alpha: getOr(p, "LRNParameter", "alpha"), beta: getOr(p, "LRNParameter", "beta") }
          const x = this.device(b)
          const y = this.device(top[0]!)
          const scale = ctx.buffer(b.count, `${name} scale`)
          fwd(L.lrnWithinForward(within), [[x.data, "read"], [y.data, "rw"], [scale, "rw"]], b.count)
          if (!downTo(0)) return
          const terms = ctx.buffer(b.count, `${name} terms`)
          bwd(L.lrnWithinBackwardTerms(b.count, within.beta), [x.data, scale, y.diff, terms], b.count)
          bwd(L.lrnWithinBackward(within), [x.data, scale, y.diff, terms, x.diff], b.count)
          return
        }
        const shape: K.LrnShape = {
          num: b.num,
          channels: b.channels,
          spatial: b.countRange(2),
          size: getOr(p, "LRNParameter", "local_size"),
          alpha: getOr(p, "LRNParameter", "alpha"),
          beta: getOr(p, "LRNParameter", "beta"),
          k: getOr(p, "LRNParameter", "k")
        }
        const x = this.device(b)
        const y = this.device(top[0]!)
        const scale = ctx.buffer(b.count, `${name} scale`)
        fwd(K.lrnForward(shape), [[x.data, "read"], [y.data, "rw"], [scale, "rw"]], b.count)
        if (downTo(0)) bwd(K.lrnBackward(shape), [x.data, y.data, scale, y.diff, x.diff], b.count)
        return
      }
      case "Flatten":
      case "Reshape": {
        // Same values in another shape: the top shares the bottom's data and diff buffers (as Caffe).
        this.blobs.set(top[0]!, this.device(bottom[0]!))
        return
      }
      case "Silence":
        return
      case "Split": {
        // Tops share the bottom's data (as in Caffe); backward sums their diffs into the bottom's.
        const x = this.device(bottom[0]!)
        for (const t of top) this.blobs.set(t, { data: x.data, diff: ctx.buffer(t.count), count: t.count })
        if (!downTo(0)) return
        const n = bottom[0]!.count
        const diffs = top.map((t) => this.device(t).diff)
        if (diffs.length === 1) {
          this.layerBackward.push({ kind: "clear", buffer: x.diff })
          bwd(K.addInto(n, false), [diffs[0]!, x.diff], n)
          return
        }
        bwd(K.addInto(n, true), [diffs[0]!, diffs[1]!, x.diff], n)
        for (const d of diffs.slice(2)) bwd(K.addInto(n, false), [d, x.diff], n)
        return
      }
      case "SoftmaxWithLoss":
      case "Accuracy": {
        const b = bottom[0]!
        const axis = b.canonicalAxis(getOr(layer.param.softmax_param, "SoftmaxParameter", "axis"))
        const accuracyAxis = type === "Accuracy" ? b.canonicalAxis(getOr(layer.param.accuracy_param, "AccuracyParameter", "axis")) : axis
        const shape: K.SoftmaxLossShape = {
          outer: b.countRange(0, accuracyAxis),
          channels: b.shape[accuracyAxis]!,
          inner: b.countRange(accuracyAxis + 1),
          ignoreLabel: type === "Accuracy" ? layer.param.accuracy_param?.ignore_label : layer.param.loss_param?.ignore_label
        }
        const positions = shape.outer * shape.inner
        const x = this.device(b)
        const label = this.device(bottom[1]!)
        const loss = this.device(top[0]!)
        const perPos = ctx.buffer(positions)
        const valid = ctx.buffer(positions)
        if (type === "Accuracy") {
          const topK = getOr(layer.param.accuracy_param, "AccuracyParameter", "top_k")
          fwd(K.accuracyPerPosition(shape, topK), [x.data, label.data, perPos, valid], positions)
          fwd(K.accuracyReduce(positions), [perPos, valid, loss.data], 1)
          if (top.length > 1) fwd(L.accuracyPerClass(positions, shape.channels), [label.data, perPos, valid, this.device(top[1]!).data], shape.channels)
          return
        }
        const mode = normalizationMode(layer.param.loss_param)
        const prob = ctx.buffer(b.count, `${name} prob`)
        // The second top is the probabilities themselves (Caffe copies its internal softmax output); its
        // diff is never read: Caffe's backward takes the loss's gradient only.
        if (top.length > 1) this.blobs.set(top[1]!, { data: prob, diff: ctx.buffer(top[1]!.count), count: top[1]!.count })
        const stats = ctx.buffer(2, `${name} stats`)
        fwd(K.softmaxLossForward(shape), [x.data, label.data, prob, perPos, valid], positions)
        fwd(K.lossReduce(positions, mode, shape.outer, shape.inner), [[perPos, "read"], [valid, "read"], [loss.data, "rw"], [stats, "rw"]], 1)
        const weight = gl.lossWeights[0] ?? 1
        if (downTo(0)) bwd(K.softmaxLossBackward(shape, mode, weight), [prob, label.data, stats, x.diff], b.count)
        return
      }
      case "Concat":
      case "Slice": {
        const concat = type === "Concat"
        const whole = concat ? top[0]! : bottom[0]!
        const parts = concat ? bottom : top
        const legacy = concat ? layer.param.concat_param?.concat_dim : layer.param.slice_param?.slice_dim
        const axis = whole.canonicalAxis(legacy ?? (concat ? getOr(layer.param.concat_param, "ConcatParameter", "axis") : getOr(layer.param.slice_param, "SliceParameter", "axis")))
        if (parts.length === 1) {
          // One part: the same values (Caffe shares data and diff).
          this.blobs.set(top[0]!, this.device(bottom[0]!))
          return
        }
        const outer = whole.countRange(0, axis)
        const inner = whole.countRange(axis + 1)
        const w = this.device(whole)
        let offset = 0
        parts.forEach((part, k) => {
          const dim = part.shape[axis]!
          const d = this.device(part)
          if (concat) {
            fwd(L.axisCopy(outer, dim, whole.shape[axis]!, offset, inner, true), [d.data, w.data], part.count)
            if (downTo(k)) bwd(L.axisCopy(outer, dim, whole.shape[axis]!, offset, inner, false), [w.diff, d.diff], part.count)
          } else {
            fwd(L.axisCopy(outer, dim, whole.shape[axis]!, offset, inner, false), [w.data, d.data], part.count)
            if (downTo(0)) bwd(L.axisCopy(outer, dim, whole.shape[axis]!, offset, inner, true), [d.diff, w.diff], part.count)
          }
          offset += dim
        })
        return
      }
      case "Eltwise": {
        if (bottom.some((b) => b === top[0])) throw unsupported("an in-place Eltwise is not on the device")
        const ep = layer.param.eltwise_param
        const op = getOr(ep, "EltwiseParameter", "operation")
        const coeffs = bottom.map((_, k) => ep?.coeff?.[k] ?? 1)
        const n = top[0]!.count
        const y = this.device(top[0]!)
        const xs = bottom.map((b) => this.device(b))
        if (op === "SUM") {
          fwd(L.eltwiseSum(n, coeffs[0]!, coeffs[1]!), [xs[0]!.data, xs[1]!.data, y.data], n)
          for (let k = 2; k < xs.length; k++) fwd(L.eltwiseSum(n, coeffs[k]!, undefined), [xs[k]!.data, y.data], n)
          xs.forEach((x, k) => downTo(k) && bwd(L.eltwiseSumBackward(n, coeffs[k]!), [y.diff, x.diff], n))
          return
        }
        if (op === "PROD") {
          fwd(L.eltwiseProd(n, true), [xs[0]!.data, xs[1]!.data, y.data], n)
          for (let k = 2; k < xs.length; k++) fwd(L.eltwiseProd(n, false), [xs[k]!.data, y.data], n)
          const stable = getOr(ep, "EltwiseParameter", "stable_prod_grad")
          xs.forEach((x, k) => {
            if (!downTo(k)) return
            if (!stable) return bwd(L.prodQuotientBackward(n), [y.data, x.data, y.diff, x.diff], n)
            // dx_k = Π_{j≠k} x_j · dy
            const others = xs.filter((_, j) => j !== k)
            bwd(L.copyInto(n), [others[0]!.data, x.diff], n)
            for (const o of others.slice(1)) bwd(L.multiplyInto(n), [o.data, x.diff], n)
            bwd(L.multiplyInto(n), [y.diff, x.diff], n)
          })
          return
        }
        const mask = ctx.buffer(n, `${name} mask`)
        fwd(L.eltwiseMax(n, 1), [[xs[0]!.data, "read"], [xs[1]!.data, "read"], [y.data, "rw"], [mask, "rw"]], n)
        for (let k = 2; k < xs.length; k++) fwd(L.eltwiseMax(n, k), [[xs[k]!.data, "read"], [y.data, "rw"], [mask, "rw"]], n)
        xs.forEach((x, k) => downTo(k) && bwd(L.eltwiseMaxBackward(n, k), [mask, y.diff, x.diff], n))
        return
      }
      case "Softmax": {
        const b = bottom[0]!
        const axis = b.canonicalAxis(getOr(layer.param.softmax_param, "SoftmaxParameter", "axis"))
        const outer = b.countRange(0, axis)
        const channels = b.shape[axis]!
        const inner = b.countRange(axis + 1)
        const inPlace = b === top[0]
        const x = this.device(b)
        const y = this.device(top[0]!)
        fwd(L.softmaxForward(outer, channels, inner, inPlace), inPlace ? [y.data] : [x.data, y.data], outer * inner)
        if (downTo(0)) bwd(L.softmaxBackward(outer, channels, inner, inPlace), inPlace ? [y.data, x.diff] : [y.data, y.diff, x.diff], outer * inner)
        return
      }
      case "Scale": {
        const b = bottom[0]!
        const sp = layer.param.scale_param
        const learned = bottom.length === 1
        const factorBlob = learned ? layer.blobs[0]! : bottom[1]!
        const axis = b.canonicalAxis(getOr(sp, "ScaleParameter", "axis"))
        const dim = factorBlob.count
        const outer = b.countRange(0, axis)
        const inner = b.countRange(axis + factorBlob.numAxes)
        const biasBlob = getOr(sp, "ScaleParameter", "bias_term") ? layer.blobs[learned ? 1 : 0] : undefined
        const biasOffset = this.paramOffset(name, type, biasBlob)
        const scaleOffset = learned ? this.paramOffset(name, type, factorBlob) : 0
        const sData = learned ? this.paramData : this.device(factorBlob).data
        const inPlace = b === top[0]
        const x = this.device(b)
        const y = this.device(top[0]!)
        const n = b.count
        // In place, the bottom's values are kept for the factor's gradient (Caffe's temp_ copy).
        let xData = x.data
        if (inPlace) {
          const kept = ctx.buffer(n, `${name} bottom copy`)
          this.forwardSteps.push({ kind: "copy", from: x.data, to: kept, floats: n })
          xData = kept
        }
        fwd(L.scaleForward(n, dim, inner, scaleOffset, biasOffset), biasOffset >= 0 ? [xData, sData, this.paramData, y.data] : [xData, sData, y.data], n)
        if (!needBackward) return
        if (biasOffset >= 0) bwd(L.factorReduce(outer, dim, inner, biasOffset, false, true), [y.diff, this.paramDiff], dim)
        if (learned) bwd(L.factorReduce(outer, dim, inner, scaleOffset, true, true), [y.diff, xData, this.paramDiff], dim)
        else if (downTo(1)) bwd(L.factorReduce(outer, dim, inner, 0, true, false), [y.diff, xData, this.device(factorBlob).diff], dim)
        if (downTo(0)) bwd(L.scaleBackwardData(n, dim, inner, scaleOffset, inPlace), inPlace ? [sData, x.diff] : [sData, y.diff, x.diff], n)
        return
      }
      case "BatchNorm": {
        const b = bottom[0]!
        const bp = layer.param.batch_norm_param
        const channels = b.numAxes === 1 ? 1 : b.shape[1]!
        const num = b.numAxes === 0 ? 1 : b.shape[0]!
        const shape: L.BatchNormShape = {
          num,
          channels,
          spatial: num * channels === 0 ? 0 : b.count / (num * channels),
          eps: getOr(bp, "BatchNormParameter", "eps"),
          movingAverageFraction: getOr(bp, "BatchNormParameter", "moving_average_fraction"),
          meanOffset: this.paramOffset(name, type, layer.blobs[0]),
          varianceOffset: this.paramOffset(name, type, layer.blobs[1]),
          factorOffset: this.paramOffset(name, type, layer.blobs[2])
        }
        const global = bp?.use_global_stats ?? net.phase === "TEST"
        const inPlace = b === top[0]
        const x = this.device(b)
        const y = this.device(top[0]!)
        const stats = ctx.buffer(2 * channels, `${name} stats`)
        const xNorm = ctx.buffer(b.count, `${name} normalised`)
        fwd(L.batchNormStats(shape, global), global ? [[this.paramData, "read"], [stats, "rw"]] : [[x.data, "read"], [this.paramData, "rw"], [stats, "rw"]], channels)
        fwd(L.batchNormApply(shape, inPlace), inPlace ? [[stats, "read"], [y.data, "rw"], [xNorm, "rw"]] : [[stats, "read"], [x.data, "read"], [y.data, "rw"], [xNorm, "rw"]], b.count)
        if (!downTo(0)) return
        const sums = ctx.buffer(2 * channels, `${name} sums`)
        if (!global) bwd(L.batchNormBackwardSums(shape), [y.diff, xNorm, sums], channels)
        const inputs = global ? [stats] : [stats, sums, xNorm]
        bwd(L.batchNormBackward(shape, global, inPlace), inPlace ? [...inputs, x.diff] : [...inputs, y.diff, x.diff], b.count)
        return
      }
      case "PReLU": {
        const b = bottom[0]!
        const channels = b.numAxes < 2 ? 1 : b.shape[1]!
        const spatial = b.countRange(2)
        const shared = getOr(layer.param.prelu_param, "PReLUParameter", "channel_shared")
        const slopeOffset = this.paramOffset(name, type, layer.blobs[0])
        const inPlace = b === top[0]
        const x = this.device(b)
        const y = this.device(top[0]!)
        const n = b.count
        let xData = x.data
        if (inPlace) {
          const kept = ctx.buffer(n, `${name} bottom copy`)
          this.forwardSteps.push({ kind: "copy", from: x.data, to: kept, floats: n })
          xData = kept
        }
        fwd(L.preluForward(n, shared ? 1 : channels, shared ? b.countRange(1) : spatial, slopeOffset), [xData, this.paramData, y.data], n)
        if (!needBackward) return
        bwd(L.preluBackwardSlope(b.numAxes === 0 ? 1 : b.shape[0]!, channels, spatial, shared, slopeOffset), [y.diff, xData, this.paramDiff], shared ? 1 : channels)
        if (downTo(0)) bwd(L.preluBackwardData(n, shared ? 1 : channels, shared ? b.countRange(1) : spatial, slopeOffset, inPlace), inPlace ? [xData, this.paramData, x.diff] : [xData, this.paramData, y.diff, x.diff], n)
        return
      }
      case "Power": {
        const pp = layer.param.power_param
        const power = getOr(pp, "PowerParameter", "power")
        const scale = getOr(pp, "PowerParameter", "scale")
        const shift = getOr(pp, "PowerParameter", "shift")
        const b = bottom[0]!
        const inPlace = b === top[0]
        if (inPlace && needBackward) throw unsupported("an in-place Power with a backward pass is not on the device")
        const x = this.device(b)
        const y = this.device(top[0]!)
        fwd(L.powerForward(b.count, power, scale, shift, inPlace), inPlace ? [y.data] : [x.data, y.data], b.count)
        if (downTo(0)) bwd(L.powerBackward(b.count, power, scale, shift), [x.data, y.diff, x.diff], b.count)
        return
      }
      case "Deconvolution": {
        // Caffe's transposed convolution is a convolution seen from its top: the im2col image is the
        // deconvolution's top, the convolution's output its bottom. Forward = that convolution's
        // backward-data, backward-data = its forward, the weight gradient is the same kernel.
        const s = (layer as BaseConvolutionLayer).resolvedSettings()
        const g = s.geometry
        const conv = convShape(s, bottom[0]!.shape[1]!, this.paramOffset(name, type, layer.blobs[0]), -1)
        const biasOffset = s.biasTerm ? this.paramOffset(name, type, layer.blobs[1]) : -1
        const spatial = g.height * g.width
        bottom.forEach((b, j) => {
          const x = this.device(b)
          const y = this.device(top[j]!)
          convTransposedProduct(conv, x.data, y.data, this.forwardSteps)
          if (biasOffset >= 0) fwd(L.addChannelBias(top[j]!.count, s.numOutput, spatial, biasOffset), [this.paramData, y.data], top[j]!.count)
        })
        if (!needBackward) return
        bottom.forEach((b, j) => {
          const x = this.device(b)
          const y = this.device(top[j]!)
          if (biasOffset >= 0) bwd(K.channelSumInto(s.num, s.numOutput, spatial, biasOffset), [y.diff, this.paramDiff], s.numOutput)
          convWeightDiff(conv, x.data, y.diff)
          if (downTo(j)) convProduct(conv, y.diff, x.diff, this.layerBackward)
        })
        return
      }
      case "EuclideanLoss": {
        const [a, b] = bottom as [Blob, Blob]
        const num = a.numAxes === 0 ? 1 : a.shape[0]!
        const diff = ctx.buffer(a.count, `${name} diff`)
        const loss = this.device(top[0]!)
        fwd(L.euclideanForward(a.count, num), [[this.device(a).data, "read"], [this.device(b).data, "read"], [diff, "rw"], [loss.data, "rw"]], 1)
        const weight = gl.lossWeights[0] ?? 1
        if (downTo(0)) bwd(L.euclideanBackward(a.count, num, weight), [diff, this.device(a).diff], a.count)
        if (downTo(1)) bwd(L.euclideanBackward(a.count, num, -weight), [diff, this.device(b).diff], a.count)
        return
      }
      case "SigmoidCrossEntropyLoss": {
        const [x, t] = bottom as [Blob, Blob]
        const lp = layer.param.loss_param
        const ignore = lp?.ignore_label
        const mode = normalizationMode(lp, "BATCH_SIZE")
        const outer = x.numAxes === 0 ? 1 : x.shape[0]!
        const normalizer = mode === "FULL" ? `${x.count}.0` : mode === "VALID" ? "v" : mode === "BATCH_SIZE" ? `${outer}.0` : "1.0"
        const stats = ctx.buffer(1, `${name} normaliser`)
        const loss = this.device(top[0]!)
        fwd(L.sigmoidCrossEntropyForward(x.count, ignore, normalizer), [[this.device(x).data, "read"], [this.device(t).data, "read"], [loss.data, "rw"], [stats, "rw"]], 1)
        if (needBackward && gl.bottomNeedBackward[1] === true) throw unsupported("cannot backpropagate to the targets (bottom[1])")
        if (downTo(0)) bwd(L.sigmoidCrossEntropyBackward(x.count, ignore, gl.lossWeights[0] ?? 1), [this.device(x).data, this.device(t).data, stats, this.device(x).diff], x.count)
        return
      }
      default:
        throw unsupported("not on the device yet (device-resident layers: Convolution, Deconvolution, Pooling MAX/AVE/STOCHASTIC, InnerProduct, ReLU, PReLU, Sigmoid, TanH, Power, Dropout, LRN, BatchNorm, Scale, Softmax, Concat, Slice, Eltwise, Flatten, Reshape, Silence, Split, SoftmaxWithLoss (with its probabilities top), EuclideanLoss, SigmoidCrossEntropyLoss, Accuracy (with its per-class top), and source layers on the host)")
    }
  }

  /** Runs the source layers on the host and sends their tops (the batch) to the device. */
  private feed(): void {
    this.ctx.write(this.seed, Uint32Array.of(++this.iteration, 0, 0, 0))
    for (const i of this.sourceLayers) this.feedLayer(i)
  }

  private feedLayer(i: number): void {
    const { bottom, top } = this.net.layerBlobs(i)
    const layer = this.net.layers[i]!
    layer.reshape(bottom as Blob[], top as Blob[])
    layer.forward(bottom as Blob[], top as Blob[])
    for (const t of top) this.ctx.write(this.device(t).data, t.data.subarray(0, t.count))
  }

  private record(steps: ReadonlyArray<Step>): void {
    for (const s of steps) {
      if (s.kind === "run") this.ctx.run(s.d)
      else if (s.kind === "clear") this.ctx.clear(s.buffer)
      else this.ctx.copy(s.from, 0, s.to, 0, s.floats)
    }
  }

  /** Records forward over a new batch; returns nothing back (see readOutputs). */
  recordForward(): void {
    this.feed()
    this.record(this.forwardSteps)
  }

  /** Records backward, accumulating into the parameter diffs. */
  recordBackward(): void {
    this.record(this.backwardSteps)
  }

  /** Records Caffe's ClearParamDiffs. */
  recordClearParamDiffs(): void {
    this.ctx.clear(this.paramDiff)
  }

  /** The scalar outputs (loss, accuracy) of the last forward: the only per-iteration readback. */
  async readOutputs(): Promise<ReadonlyArray<{ readonly name: string; readonly value: number; readonly lossWeight: number }>> {
    const values: Array<{ name: string; value: number; lossWeight: number }> = []
    for (const o of this.outputs) values.push({ name: o.name, value: (await this.ctx.read(o.buffer, 1))[0]!, lossWeight: o.lossWeight })
    return values
  }

  /** Σ weight·output over the loss outputs of the last forward. */
  async readLoss(): Promise<number> {
    let loss = 0
    for (const o of await this.readOutputs()) loss += o.lossWeight * o.value
    return loss
  }

  /**
   * Records the solver's update of every parameter (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam, as
   * solvers/*.ts compute them) at learning rate `rate`; `iteration` = updates done before (Adam's bias
   * correction). L2 regularisation and iter_size as the host solvers; L1 and clip_gradients are refused.
   */
  recordSolverUpdate(s: UpdateSettings, rate: number, iteration: number): void {
    refuseUnsupportedSolver(s)
    const params = this.net.learnableParams()
    if (this.update === undefined || this.update.type !== s.type) this.update = { type: s.type, steps: this.buildUpdate(s.type) }
    const f32 = Math.fround
    const factor = s.iterSize === 1 ? 1 : f32(1 / s.iterSize)
    // Adam's bias correction, in double as Caffe's pow(float, int), folded into the rate.
    const t = iteration + 1
    const correction = s.type === "Adam" ? f32(Math.sqrt(1 - Math.pow(s.momentum2, t)) / (1 - Math.pow(s.momentum, t))) : 1
    this.rateValues.set([s.momentum, s.momentum2, s.delta, s.rmsDecay], 0)
    const ends = new Uint32Array(this.rateValues.buffer)
    params.forEach((p, k) => {
      const local = f32(rate * f32(p.lrMult))
      this.rateValues.set([s.type === "Adam" ? f32(local * correction) : local, f32(s.weightDecay * f32(p.decayMult)), factor], 4 * (k + 1))
      ends[4 * (k + 1) + 3] = this.offsets.get(p.blob.data)! + p.blob.count
    })
    this.ctx.write(this.rates, this.rateValues)
    for (const d of this.update.steps) this.ctx.run(d)
  }

  /** SGD's update (recordSolverUpdate with an SGD solver). */
  recordSgdUpdate(s: UpdateSettings, rate: number): void {
    if (s.type !== "SGD") throw new ResidentNetUnsupported({ layer: "(solver)", type: s.type, reason: "recordSgdUpdate is SGD's; use recordSolverUpdate" })
    this.recordSolverUpdate(s, rate, 0)
  }

  private buildUpdate(type: string): ReadonlyArray<Dispatch> {
    const slots = Math.max(1, this.net.learnableParams().length)
    const two = type === "AdaDelta" || type === "Adam"
    if (two) this.history2 ??= this.ctx.buffer(this.paramCount, "solver history 2")
    if (this.paramCount === 0) return []
    return [
      this.ctx.dispatch(K.solverUpdate(type, this.paramCount, slots), [
        { buffer: this.rates, access: "uniform" },
        { buffer: this.paramData, access: "rw" },
        { buffer: this.paramDiff, access: "rw" },
        { buffer: this.history, access: "rw" },
        ...(two ? [{ buffer: this.history2!, access: "rw" as const }] : [])
      ], this.paramCount)
    ]
  }


  /** One training iteration (clear diffs, forward, backward, the solver's update); returns the loss, the one value read back. */
  async trainIteration(s: UpdateSettings, rate: number, iteration = 0): Promise<number> {
    this.recordClearParamDiffs()
    this.recordForward()
    this.recordBackward()
    this.recordSolverUpdate(s, rate, iteration)
    return this.readLoss()
  }

  /**
   * Per layer, the wall time of its forward and of its backward kernels, each submitted alone and waited
   * for (benchmarks only: the waits serialise what a training iteration overlaps). Source layers count
   * their host forward and the upload.
   */
  async timeLayers(): Promise<ReadonlyArray<{ readonly name: string; readonly forwardMs: number; readonly backwardMs: number }>> {
    const times = this.net.layers.map((l) => ({ name: l.name, forwardMs: 0, backwardMs: 0 }))
    await this.ctx.finish()
    for (let i = 0; i < times.length; i++) {
      const t0 = performance.now()
      if (this.sourceLayers.includes(i)) this.feedLayer(i)
      this.record(this.forwardByLayer[i]!)
      await this.ctx.finish()
      times[i]!.forwardMs = performance.now() - t0
    }
    for (let i = times.length - 1; i >= 0; i--) {
      const t0 = performance.now()
      this.record(this.backwardByLayer[i]!)
      await this.ctx.finish()
      times[i]!.backwardMs = performance.now() - t0
    }
    return times
  }

  /** All parameters, one device → host copy (what an exchange sends). */
  readParams(): Promise<Float32Array> {
    return this.ctx.read(this.paramData, this.paramCount)
  }

  /** All parameter diffs (for tests and gradient checks), one copy. */
  readParamDiffs(): Promise<Float32Array> {
    return this.ctx.read(this.paramDiff, this.paramCount)
  }

  /**
   * One elastic exchange with the center from the device: the parameters go out in one copy, `exchange`
   * returns the center's x̃, which comes in with one copy, and the worker's elastic move
   * x_i ← α·x̃ + (1−α)·x_i runs on the device.
   */
  async elasticExchange(exchange: (params: Float32Array) => Promise<Float32Array>, alpha: number): Promise<void> {
    const center = await exchange(await this.readParams())
    if (center.length !== this.paramCount) throw new RangeError(`elasticExchange: the center sent ${center.length} values for ${this.paramCount} parameters`)
    this.centerBuffer ??= this.ctx.buffer(this.paramCount, "center")
    this.ctx.write(this.centerBuffer, center)
    const key = Math.fround(alpha)
    if (this.elastic?.alpha !== key) this.elastic = { alpha: key, d: this.ctx.dispatch(K.workerElastic(this.paramCount, key), [{ buffer: this.centerBuffer, access: "read" }, { buffer: this.paramData, access: "rw" }], this.paramCount) }
    this.ctx.run(this.elastic.d)
    this.ctx.flush()
  }

  /** Replaces all parameters, one host → device copy (what an exchange receives). */
  writeParams(values: Float32Array): void {
    if (values.length !== this.paramCount) throw new RangeError(`writeParams: ${values.length} values for ${this.paramCount} parameters`)
    this.ctx.write(this.paramData, values)
  }

  /** Sends the host Net's parameters to the device (after weights were loaded into it), one copy. */
  uploadHostParams(): void {
    this.writeParams(this.hostParams())
  }

  /**
   * Copies, on the device, the parameters of every layer of `source` (same device) whose name matches
   * one of this net's layers: a test net takes the train net's weights (Caffe's ShareTrainedLayersWith)
   * without a round trip through the host.
   */
  copyParamsFrom(source: ResidentNet): void {
    if (source.ctx !== this.ctx) throw new RangeError("copyParamsFrom: the nets are on different devices")
    const byName = new Map(source.net.layerNames.map((n, i) => [n, source.net.layers[i]!]))
    this.net.layers.forEach((layer, i) => {
      const from = byName.get(this.net.layerNames[i]!)
      if (!from) return
      layer.blobs.forEach((b, j) => {
        const s = from.blobs[j]
        const to = this.offsets.get(b.data)
        const at = s ? source.offsets.get(s.data) : undefined
        if (!s || to === undefined || at === undefined) return
        if (s.count !== b.count) throw new RangeError(`copyParamsFrom: layer ${this.net.layerNames[i]} param ${j} has ${b.count} values, the source ${s.count}`)
        this.ctx.copy(source.paramData, at, this.paramData, to, b.count)
      })
    })
  }

  /** The solver history (one arena, or two for AdaDelta / Adam) in learnable-parameter order, one copy each. */
  async readHistory(): Promise<ReadonlyArray<Float32Array>> {
    const first = await this.ctx.read(this.history, this.paramCount)
    return this.history2 ? [first, await this.ctx.read(this.history2, this.paramCount)] : [first]
  }

  /** Records zeroing the solver history (a worker reset from the center drops its momentum). */
  recordClearHistory(): void {
    this.ctx.clear(this.history)
    if (this.history2) this.ctx.clear(this.history2)
  }

  /** Replaces the solver history (a resumed .solverstate): `copies` arenas in learnable-parameter order. */
  writeHistory(copies: ReadonlyArray<Float32Array>): void {
    copies.forEach((values, k) => {
      if (values.length !== this.paramCount) throw new RangeError(`writeHistory: ${values.length} values for ${this.paramCount} parameters`)
      if (k === 0) this.ctx.write(this.history, values)
      else this.ctx.write((this.history2 ??= this.ctx.buffer(this.paramCount, "solver history 2")), values)
    })
  }

  /** A blob's data or diff (tests and inspection; counted as a readback). */
  readBlob(blob: Blob, which: "data" | "diff" = "data"): Promise<Float32Array> {
    const d = this.blobs.get(blob)
    if (!d) throw new RangeError("readBlob: the blob is not on the device")
    return this.ctx.read(which === "data" ? d.data : d.diff, blob.count)
  }

  /** Copies the device's parameters (and, with `diffs`, their diffs: snapshot_diff) back into the host Net's blobs (for snapshots). */
  async syncParamsToHost(diffs = false): Promise<void> {
    const all = await this.readParams()
    for (const p of this.net.learnableParams()) p.blob.data.set(all.subarray(this.offsets.get(p.blob.data)!, this.offsets.get(p.blob.data)! + p.blob.count))
    if (!diffs) return
    const d = await this.readParamDiffs()
    for (const p of this.net.learnableParams()) p.blob.diff.set(d.subarray(this.offsets.get(p.blob.data)!, this.offsets.get(p.blob.data)! + p.blob.count))
  }
}
