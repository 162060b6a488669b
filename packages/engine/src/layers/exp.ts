import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * Exp: y = base^(shift + scale·x), base −1 meaning e. Computed as Caffe does: outer·exp(inner·x) with
 * inner = ln(base)·scale and outer = base^shift; dx = dy·y·inner (output only, so in place is free).
 */
export class ExpLayer extends NeuronLayer {
  private innerScale = 1
  private outerScale = 1

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.exp_param
    const base = getOr(p, "ExpParameter", "base")
    const scale = getOr(p, "ExpParameter", "scale")
    const shift = getOr(p, "ExpParameter", "shift")
    if (base !== -1 && !(base > 0)) throw new LayerSetupError(this.name, this.type, `exp_param.base must be strictly positive (or -1 for e), got ${base}`)
    const logBase = base === -1 ? 1 : Math.log(base)
    if (!Number.isFinite(logBase)) throw new LayerSetupError(this.name, this.type, `log(exp_param.base) = log(${base}) is not finite`)
    this.innerScale = Math.fround(logBase * scale)
    this.outerScale = shift === 0 ? 1 : Math.fround(base !== -1 ? Math.pow(base, shift) : Math.exp(shift))
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    const { innerScale, outerScale } = this
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = outerScale * Math.exp(innerScale * x[i]!)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = y[i]! * dy[i]! * this.innerScale
  }
}
