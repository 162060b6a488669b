import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * Power: y = (shift + scale·x)^power, with Caffe's special cases kept bit-for-bit in spirit:
 * - diff_scale = power·scale = 0: y is the constant (power 0 → 1, else shift^power), gradient 0;
 * - power 1: gradient is the constant scale;
 * - power 2: dy/dx = 2·scale·(shift + scale·x);
 * - shift 0: dy/dx = power·y/x (NaN at x = 0, as in Caffe);
 * - otherwise dy/dx = power·scale·y/(shift + scale·x).
 */
export class PowerLayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true
  private power = 1
  private scale = 1
  private shift = 0
  private diffScale = 1

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.power_param
    this.power = getOr(p, "PowerParameter", "power")
    this.scale = getOr(p, "PowerParameter", "scale")
    this.shift = getOr(p, "PowerParameter", "shift")
    this.diffScale = Math.fround(this.power * this.scale)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const n = bottom[0]!.count
    const y = top[0]!.data
    if (this.diffScale === 0) {
      const value = this.power === 0 ? 1 : Math.pow(this.shift, this.power)
      y.fill(value, 0, n)
      return
    }
    this.keepInput(bottom, top)
    const x = bottom[0]!.data
    const { power, scale, shift } = this
    for (let i = 0; i < n; i++) {
      const base = Math.fround(shift + scale * x[i]!)
      y[i] = power === 1 ? base : Math.pow(base, power)
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const n = bottom[0]!.count
    const dx = bottom[0]!.diff
    const dy = top[0]!.diff
    const { power, scale, shift, diffScale } = this
    if (diffScale === 0) {
      dx.fill(0, 0, n)
      return
    }
    if (power === 1) {
      for (let i = 0; i < n; i++) dx[i] = diffScale * dy[i]!
      return
    }
    const x = this.inputFor(top, bottom)
    const y = top[0]!.data
    for (let i = 0; i < n; i++) {
      let d: number
      if (power === 2) d = diffScale * scale * x[i]! + diffScale * shift
      else if (shift === 0) d = (power * y[i]!) / x[i]!
      else d = (diffScale * y[i]!) / Math.fround(shift + scale * x[i]!)
      dx[i] = dy[i]! * d
    }
  }
}
