import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"
import { sigmoid } from "./sigmoid.js"

/**
 * Swish: y = x·σ(βx). Backward as Caffe writes it, from the output and the kept sigmoid only:
 * dx = dy·(βy + σ(βx)(1 − βy)), so in place needs no copy of the input.
 */
export class SwishLayer extends NeuronLayer {
  private beta = 1
  private sig = new Float32Array(0)

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    this.beta = getOr(this.param.swish_param, "SwishParameter", "beta")
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    if (this.sig.length < bottom[0]!.count) this.sig = new Float32Array(bottom[0]!.count)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    const s = this.sig
    for (let i = 0; i < bottom[0]!.count; i++) {
      const v = x[i]!
      s[i] = sigmoid(Math.fround(this.beta * v))
      y[i] = v * s[i]!
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const s = this.sig
    const b = this.beta
    for (let i = 0; i < bottom[0]!.count; i++) {
      const by = b * y[i]!
      dx[i] = dy[i]! * (by + s[i]! * (1 - by))
    }
  }
}
