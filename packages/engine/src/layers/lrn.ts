import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import type { LrnGeometry } from "../backend/backend.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * LRN (local response normalisation) on 4-D (N, C, H, W) input; local_size n (default 5, odd),
 * alpha (1), beta (0.75), k (1).
 * - ACROSS_CHANNELS: y = x·(k + α/n·Σ_{n neighbouring channels} x²)^(−β), through the backend's
 *   lrnForward / lrnBackward (which keep the scale for backward).
 * - WITHIN_CHANNEL: Caffe composes split → square → AVE pool (kernel n, stride 1, pad (n−1)/2) → power
 *   (1 + α·avg)^(−β) → product. With stride 1 and that pad every pooling window's divisor is n², so it
 *   is computed directly: s = 1 + α/n²·Σ_{n×n window, zero-padded} x², y = x·s^(−β); backward
 *   dx_j = dy_j·s_j^(−β) − (2αβ/n²)·x_j·Σ_{i: j ∈ window(i)} dy_i·x_i·s_i^(−β−1). k is ignored.
 */
export class LRNLayer extends Layer {
  private size = 5
  private alpha = 1
  private beta = 0.75
  private k = 1
  private within = false
  /** k + α/n·Σx², kept for backward; in the backend's memory so the kernels use it in place. */
  private scale: Float32Array = new Float32Array(0)
  /** WITHIN_CHANNEL backward's per-pixel terms (float64), reused across iterations. */
  private within64 = new Float64Array(0)
  private geometry: LrnGeometry | undefined

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.lrn_param
    this.size = getOr(p, "LRNParameter", "local_size")
    if (this.size % 2 !== 1) this.fail(`LRN only supports odd values for local_size, got ${this.size}`)
    this.alpha = getOr(p, "LRNParameter", "alpha")
    this.beta = getOr(p, "LRNParameter", "beta")
    this.k = getOr(p, "LRNParameter", "k")
    this.within = getOr(p, "LRNParameter", "norm_region") === "WITHIN_CHANNEL"
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    if (b.numAxes !== 4) this.fail(`input must have 4 axes, corresponding to (num, channels, height, width); got ${b.shapeString()}`)
    if (top[0] === b) this.fail("LRN does not run in place (backward needs both its input and its output)")
    top[0]!.reshapeLike(b)
    if (this.scale.length < b.count) this.scale = this.ctx.backend.allocator.allocFloat32(b.count)
    if (this.within && this.within64.length < b.count) this.within64 = new Float64Array(b.count)
    const [num, channels, height, width] = b.shape as [number, number, number, number]
    this.geometry = { num, channels, height, width, size: this.size, alpha: this.alpha, beta: this.beta, k: this.k }
  }

  forward(bottom: Blob[], top: Blob[]): void {
    if (!this.within) return this.ctx.backend.lrnForward(this.geometry!, bottom[0]!.data, top[0]!.data, this.scale)
    const g = this.geometry!
    const x = bottom[0]!.data
    const y = top[0]!.data
    const s = this.scale
    const half = (g.size - 1) / 2
    const factor = Math.fround(this.alpha / (g.size * g.size))
    this.eachPixel(g, (plane, h, w) => {
      let sum = 0
      for (let i = Math.max(0, h - half); i <= Math.min(g.height - 1, h + half); i++)
        for (let j = Math.max(0, w - half); j <= Math.min(g.width - 1, w + half); j++) {
          const v = x[plane + i * g.width + j]!
          sum += v * v
        }
      const at = plane + h * g.width + w
      s[at] = 1 + factor * sum
      y[at] = x[at]! * Math.pow(s[at]!, -this.beta)
    })
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = bottom[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    // ACROSS reads the top data, as Caffe's CrossChannelBackward does.
    if (!this.within) return this.ctx.backend.lrnBackward(this.geometry!, x, top[0]!.data, this.scale, dy, dx)
    const g = this.geometry!
    const s = this.scale
    const half = (g.size - 1) / 2
    const ratio = (2 * this.alpha * this.beta) / (g.size * g.size)
    // r_i = dy_i·x_i·s_i^(−β−1), summed over the windows that contain each pixel. Computed from the
    // input and the kept scale, never from the top: Caffe's composition keeps its own intermediate
    // blobs, so an in-place layer after WITHIN_CHANNEL LRN (e.g. ReLU) must not change the gradient.
    const r = this.within64
    const n = bottom[0]!.count
    for (let i = 0; i < n; i++) r[i] = dy[i]! * x[i]! * Math.pow(s[i]!, -this.beta - 1)
    this.eachPixel(g, (plane, h, w) => {
      let acc = 0
      for (let i = Math.max(0, h - half); i <= Math.min(g.height - 1, h + half); i++)
        for (let j = Math.max(0, w - half); j <= Math.min(g.width - 1, w + half); j++) acc += r[plane + i * g.width + j]!
      const at = plane + h * g.width + w
      dx[at] = dy[at]! * Math.pow(s[at]!, -this.beta) - ratio * x[at]! * acc
    })
  }

  private eachPixel(g: LrnGeometry, visit: (planeOffset: number, h: number, w: number) => void): void {
    const planeSize = g.height * g.width
    for (let p = 0; p < g.num * g.channels; p++) for (let h = 0; h < g.height; h++) for (let w = 0; w < g.width; w++) visit(p * planeSize, h, w)
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
