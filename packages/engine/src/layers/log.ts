import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * Log: y = log_base(shift + scale·x), base −1 meaning e; dx = dy·scale / ((shift + scale·x)·ln base).
 * Backward needs the input, which is kept when running in place.
 */
export class LogLayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true
  private baseScale = 1
  private inputScale = 1
  private inputShift = 0
  private backwardNumScale = 1

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.log_param
    const base = getOr(p, "LogParameter", "base")
    if (base !== -1 && !(base > 0)) throw new LayerSetupError(this.name, this.type, `log_param.base must be strictly positive (or -1 for e), got ${base}`)
    const logBase = base === -1 ? 1 : Math.log(base)
    if (!Number.isFinite(logBase) || logBase === 0)
      throw new LayerSetupError(this.name, this.type, `1/log(log_param.base) = 1/log(${base}) is not finite`)
    this.baseScale = Math.fround(1 / logBase)
    this.inputScale = getOr(p, "LogParameter", "scale")
    this.inputShift = getOr(p, "LogParameter", "shift")
    this.backwardNumScale = Math.fround(this.inputScale / logBase)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    this.keepInput(bottom, top)
    const x = bottom[0]!.data
    const y = top[0]!.data
    const { inputScale, inputShift, baseScale } = this
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = Math.log(Math.fround(inputScale * x[i]! + inputShift)) * baseScale
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = this.inputFor(top, bottom)
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const { inputScale, inputShift, backwardNumScale } = this
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = (dy[i]! * backwardNumScale) / Math.fround(inputScale * x[i]! + inputShift)
  }
}
