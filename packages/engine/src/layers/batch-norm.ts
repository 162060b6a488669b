import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * BatchNorm (Caffe's: normalisation only, no γ/β — follow it with Scale bias_term: true).
 * Blobs: [0] mean_sum (C), [1] var_sum (C), [2] scale factor s ([1]), all zero at start; they are
 * statistics, not learned (lr_mult must be 0; the net adds `param { lr_mult: 0 }` specs as Caffe does).
 * - Batch statistics (TRAIN unless use_global_stats): μ, σ² (biased) over N·spatial per channel;
 *   s ← λs + 1, mean_sum ← λ·mean_sum + μ, var_sum ← λ·var_sum + m/(m−1)·σ², m = count/C.
 * - Global statistics (TEST by default): μ = mean_sum/s, σ² = var_sum/s (both 0 when s = 0).
 * y = (x − μ)/√(σ² + eps). Backward: global: dx = dy/√(σ²+eps); batch:
 * dx = (dy − mean(dy) − mean(dy·y)·y)/√(σ²+eps), means over N·spatial per channel.
 * In place works: the normalised output is kept (x_norm) and each dx[i] only reads dy[i].
 */
export class BatchNormLayer extends Layer {
  private useGlobalStats = false
  private movingAverageFraction = 0.999
  private eps = 1e-5
  private channels = 1
  private mean = new Float64Array(0)
  private std = new Float64Array(0)
  private xNorm = new Float32Array(0)

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const p = this.param.batch_norm_param
    this.movingAverageFraction = getOr(p, "BatchNormParameter", "moving_average_fraction")
    this.useGlobalStats = p?.use_global_stats ?? this.ctx.phase === "TEST"
    this.eps = getOr(p, "BatchNormParameter", "eps")
    this.channels = bottom[0]!.numAxes === 1 ? 1 : bottom[0]!.shape[1]!
    const specs = this.param.param ?? []
    for (let i = 0; i < Math.min(3, specs.length); i++) {
      const lr = specs[i]!.lr_mult
      if (lr !== undefined && lr !== 0)
        throw new LayerSetupError(this.name, this.type, `param[${i}].lr_mult is ${lr}: cannot configure batch normalization statistics as layer parameters (lr_mult must be 0)`)
    }
    if (this.blobs.length === 0) this.blobs = [new Blob([this.channels]), new Blob([this.channels]), new Blob([1])]
    this.mean = new Float64Array(this.channels)
    this.std = new Float64Array(this.channels)
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    if (b.numAxes >= 2 && b.shape[1] !== this.channels)
      throw new LayerSetupError(this.name, this.type, `bottom has ${b.shape[1]} channels, the layer was set up for ${this.channels}`)
    if (top[0] !== b) top[0]!.reshapeLike(b)
    if (this.xNorm.length < b.count) this.xNorm = new Float32Array(b.count)
  }

  private dims(b: Blob): { num: number; spatial: number } {
    const num = b.numAxes === 0 ? 1 : b.shape[0]!
    return { num, spatial: num * this.channels === 0 ? 0 : b.count / (num * this.channels) }
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const x = b.data
    const y = top[0]!.data
    const C = this.channels
    const { num, spatial } = this.dims(b)
    const m = num * spatial
    const mean = this.mean
    const variance = new Float64Array(C)
    if (this.useGlobalStats) {
      const s = this.blobs[2]!.data[0]!
      const factor = s === 0 ? 0 : Math.fround(1 / s)
      for (let c = 0; c < C; c++) {
        mean[c] = Math.fround(factor * this.blobs[0]!.data[c]!)
        variance[c] = Math.fround(factor * this.blobs[1]!.data[c]!)
      }
    } else {
      mean.fill(0)
      for (let n = 0; n < num; n++)
        for (let c = 0; c < C; c++) {
          const o = (n * C + c) * spatial
          for (let i = 0; i < spatial; i++) mean[c] = mean[c]! + x[o + i]!
        }
      for (let c = 0; c < C; c++) mean[c] = Math.fround(mean[c]! / m)
      for (let n = 0; n < num; n++)
        for (let c = 0; c < C; c++) {
          const o = (n * C + c) * spatial
          for (let i = 0; i < spatial; i++) {
            const d = Math.fround(x[o + i]! - mean[c]!)
            variance[c] = variance[c]! + d * d
          }
        }
      for (let c = 0; c < C; c++) variance[c] = Math.fround(variance[c]! / m)
      // Moving averages, in Caffe's order and float32 rounding.
      const lambda = this.movingAverageFraction
      const sBlob = this.blobs[2]!.data
      sBlob[0] = Math.fround(sBlob[0]! * lambda) + 1
      const correction = m > 1 ? Math.fround(m / (m - 1)) : 1
      for (let c = 0; c < C; c++) {
        this.blobs[0]!.data[c] = mean[c]! + lambda * this.blobs[0]!.data[c]!
        this.blobs[1]!.data[c] = correction * variance[c]! + lambda * this.blobs[1]!.data[c]!
      }
    }
    for (let c = 0; c < C; c++) this.std[c] = Math.fround(Math.sqrt(Math.fround(variance[c]! + this.eps)))
    for (let n = 0; n < num; n++)
      for (let c = 0; c < C; c++) {
        const o = (n * C + c) * spatial
        const mu = mean[c]!
        const sd = this.std[c]!
        for (let i = 0; i < spatial; i++) {
          const v = Math.fround(x[o + i]! - mu) / sd
          y[o + i] = v
          this.xNorm[o + i] = v
        }
      }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const b = bottom[0]!
    const dy = top[0]!.diff
    const dx = b.diff
    const C = this.channels
    const { num, spatial } = this.dims(b)
    if (this.useGlobalStats) {
      for (let n = 0; n < num; n++)
        for (let c = 0; c < C; c++) {
          const o = (n * C + c) * spatial
          for (let i = 0; i < spatial; i++) dx[o + i] = dy[o + i]! / this.std[c]!
        }
      return
    }
    const y = this.xNorm
    const sumDy = new Float64Array(C)
    const sumDyY = new Float64Array(C)
    for (let n = 0; n < num; n++)
      for (let c = 0; c < C; c++) {
        const o = (n * C + c) * spatial
        for (let i = 0; i < spatial; i++) {
          sumDy[c] = sumDy[c]! + dy[o + i]!
          sumDyY[c] = sumDyY[c]! + dy[o + i]! * y[o + i]!
        }
      }
    const inv = 1 / (num * spatial)
    for (let n = 0; n < num; n++)
      for (let c = 0; c < C; c++) {
        const o = (n * C + c) * spatial
        const a = Math.fround(sumDy[c]!)
        const g = Math.fround(sumDyY[c]!)
        for (let i = 0; i < spatial; i++) {
          const t = Math.fround(g * y[o + i]! + a)
          dx[o + i] = Math.fround(dy[o + i]! - inv * t) / this.std[c]!
        }
      }
  }
}
