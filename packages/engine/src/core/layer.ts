import type { LayerParameter } from "@deepspark/caffe"
import type { Backend } from "../backend/backend.js"
import type { Rng } from "./rng.js"
import type { Blob } from "./blob.js"

export type Phase = "TRAIN" | "TEST"

/**
 * What a layer may use besides its own parameter: the phase it runs in, the kernels, a random source
 * of its own, and services a few layers need (database readers for Data, the batch queue for
 * MemoryData). Services are looked up by name so the engine does not depend on who provides them.
 */
export interface LayerContext {
  readonly phase: Phase
  readonly backend: Backend
  readonly rng: Rng
  readonly services: LayerServices
}

export interface LayerServices {
  readonly [name: string]: unknown
}

/**
 * A Caffe layer. Lifecycle as in Caffe: `layerSetUp` once (read the parameter, create parameter blobs),
 * `reshape` whenever bottom shapes may have changed (shape the tops and internal buffers; allocate
 * nothing if sizes did not grow), then `forward` / `backward` each iteration.
 *
 * Loss: the Net sets each loss top's diff to its loss weight and adds Σ weight·top to the objective;
 * a loss layer's backward reads top[0].diff[0] as its weight, as in Caffe.
 */
export abstract class Layer {
  /** Learnable (or statistic) parameter blobs, in Caffe's order (weights, bias, …). */
  blobs: Blob[] = []
  /**
   * Caffe's param_propagate_down_: whether backward must accumulate into blobs[i].diff. The Net sets it
   * false for parameters with lr_mult 0 (unless force_backward); layers skip those gradients.
   */
  private readonly paramPropagate: boolean[] = []

  paramPropagateDown(index: number): boolean {
    return this.paramPropagate[index] ?? true
  }
  setParamPropagateDown(index: number, value: boolean): void {
    this.paramPropagate[index] = value
  }

  constructor(
    readonly param: LayerParameter,
    readonly ctx: LayerContext
  ) {}

  get name(): string {
    return this.param.name ?? ""
  }
  get type(): string {
    return this.param.type ?? ""
  }

  /** Checks bottom/top counts, then runs layerSetUp and reshape. */
  setUp(bottom: Blob[], top: Blob[]): void {
    this.checkBlobCounts(bottom, top)
    this.layerSetUp(bottom, top)
    this.reshape(bottom, top)
  }

  abstract layerSetUp(bottom: Blob[], top: Blob[]): void
  abstract reshape(bottom: Blob[], top: Blob[]): void
  abstract forward(bottom: Blob[], top: Blob[]): void
  abstract backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void

  // Blob-count contract (Caffe's ExactNumBottomBlobs etc.); -1 = no constraint.
  exactNumBottomBlobs(): number {
    return -1
  }
  minBottomBlobs(): number {
    return -1
  }
  maxBottomBlobs(): number {
    return -1
  }
  exactNumTopBlobs(): number {
    return -1
  }
  minTopBlobs(): number {
    return -1
  }
  maxTopBlobs(): number {
    return -1
  }
  /** Caffe's EqualNumBottomTopBlobs. */
  equalNumBottomTopBlobs(): boolean {
    return false
  }
  /** Whether force_backward may make this bottom need a gradient (false for labels). */
  allowForceBackward(_bottomIndex: number): boolean {
    return true
  }
  /** Loss layers get loss weight 1 on top 0 by default (Caffe's AutoTopBlobs / loss default). */
  isLoss(): boolean {
    return false
  }

  /** An error naming this layer (throw it from setup/reshape on bad configuration or shapes). */
  protected setupError(detail: string): LayerSetupError {
    return new LayerSetupError(this.name, this.type, detail)
  }

  protected checkBlobCounts(bottom: Blob[], top: Blob[]): void {
    const fail = (what: string) => {
      throw new LayerSetupError(this.name, this.type, what)
    }
    const nb = bottom.length
    const nt = top.length
    if (this.exactNumBottomBlobs() >= 0 && nb !== this.exactNumBottomBlobs())
      fail(`takes ${this.exactNumBottomBlobs()} bottom blob(s) as input, got ${nb}`)
    if (this.minBottomBlobs() >= 0 && nb < this.minBottomBlobs())
      fail(`takes at least ${this.minBottomBlobs()} bottom blob(s) as input, got ${nb}`)
    if (this.maxBottomBlobs() >= 0 && nb > this.maxBottomBlobs())
      fail(`takes at most ${this.maxBottomBlobs()} bottom blob(s) as input, got ${nb}`)
    if (this.exactNumTopBlobs() >= 0 && nt !== this.exactNumTopBlobs())
      fail(`produces ${this.exactNumTopBlobs()} top blob(s) as output, got ${nt}`)
    if (this.minTopBlobs() >= 0 && nt < this.minTopBlobs())
      fail(`produces at least ${this.minTopBlobs()} top blob(s) as output, got ${nt}`)
    if (this.maxTopBlobs() >= 0 && nt > this.maxTopBlobs())
      fail(`produces at most ${this.maxTopBlobs()} top blob(s) as output, got ${nt}`)
    if (this.equalNumBottomTopBlobs() && nb !== nt)
      fail(`needs as many top blobs as bottom blobs, got ${nb} bottom and ${nt} top`)
  }
}

/** A layer rejected its configuration or its input shapes; names the layer. */
export class LayerSetupError extends Error {
  readonly _tag = "LayerSetupError"
  constructor(
    readonly layerName: string,
    readonly layerType: string,
    readonly detail: string
  ) {
    super(`Layer "${layerName}" (${layerType}): ${detail}`)
    this.name = "LayerSetupError"
  }
}
