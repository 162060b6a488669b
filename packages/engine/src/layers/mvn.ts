import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * MVN (mean-variance normalisation) over each (num, channel) plane, or each num with
 * `across_channels`, using Caffe's legacy 4-D view (num, channels, height, width) — the top is shaped
 * 4-D like that. y = x − mean; with `normalize_variance` (default true) y /= (√var + eps): eps (default
 * 1e-9) is added to the standard deviation, as Caffe does. Backward is Caffe's:
 * dx = (dy − mean(dy) − mean(dy·y)·y) / (√var + eps), or dx = dy − mean(dy). Works in place.
 */
export class MVNLayer extends Layer {
  private stdPlusEps = new Float64Array(0)

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  private groups(b: Blob): { num: number; dim: number } {
    const num = getOr(this.param.mvn_param, "MVNParameter", "across_channels") ? b.num : b.num * b.channels
    return { num, dim: num === 0 ? 0 : b.count / num }
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const shape = [b.num, b.channels, b.height, b.width]
    if (top[0] !== b) top[0]!.reshape(shape)
    else if (b.numAxes !== 4) b.reshape(shape)
    const { num } = this.groups(b)
    if (this.stdPlusEps.length < num) this.stdPlusEps = new Float64Array(num)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const p = this.param.mvn_param
    const normalizeVariance = getOr(p, "MVNParameter", "normalize_variance")
    const eps = getOr(p, "MVNParameter", "eps")
    const x = bottom[0]!.data
    const y = top[0]!.data
    const { num, dim } = this.groups(bottom[0]!)
    for (let g = 0; g < num; g++) {
      const o = g * dim
      let s = 0
      for (let k = 0; k < dim; k++) s += x[o + k]!
      const mean = Math.fround(s / dim)
      for (let k = 0; k < dim; k++) y[o + k] = x[o + k]! - mean
      if (!normalizeVariance) continue
      let v = 0
      for (let k = 0; k < dim; k++) v += y[o + k]! * y[o + k]!
      const sd = Math.fround(Math.fround(Math.sqrt(Math.fround(v / dim))) + eps)
      this.stdPlusEps[g] = sd
      for (let k = 0; k < dim; k++) y[o + k] = y[o + k]! / sd
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const normalizeVariance = getOr(this.param.mvn_param, "MVNParameter", "normalize_variance")
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const { num, dim } = this.groups(bottom[0]!)
    for (let g = 0; g < num; g++) {
      const o = g * dim
      let sumDy = 0
      let sumDyY = 0
      for (let k = 0; k < dim; k++) {
        sumDy += dy[o + k]!
        sumDyY += dy[o + k]! * y[o + k]!
      }
      if (normalizeVariance) {
        const a = Math.fround(sumDy)
        const c = Math.fround(sumDyY)
        const sd = this.stdPlusEps[g]!
        for (let k = 0; k < dim; k++) dx[o + k] = Math.fround(dy[o + k]! - Math.fround(c * y[o + k]! + a) / dim) / sd
      } else {
        const mean = Math.fround(sumDy / dim)
        for (let k = 0; k < dim; k++) dx[o + k] = dy[o + k]! - mean
      }
    }
  }
}
