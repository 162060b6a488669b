import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { allocInt32, type PoolGeometry } from "../backend/backend.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * SPP (spatial pyramid pooling) on 4-D input: for each level l < pyramid_height, pooling (MAX or AVE,
 * via the backend's pooling kernels) with bins = 2^l, kernel = ceil(H/bins), stride = kernel,
 * pad = (kernel·bins − H + 1)/2 (likewise for W), sized as Caffe's Pooling layer does (CEIL, then one
 * less when the last window would start in the padding). The levels are flattened and concatenated
 * per item: top (N, C·Σ pooledH·pooledW). With pyramid_height 1 the top is the single pooling output
 * (N, C, pooledH, pooledW), as Caffe's SPP hands that case to one Pooling layer. Backward sums the
 * levels' gradients (Caffe's Split). STOCHASTIC pooling has no CPU path in Caffe and is rejected.
 */
export class SPPLayer extends Layer {
  private height = 0
  private levels: Array<{ g: PoolGeometry; mask: Int32Array; out: Float32Array }> = []
  private diffScratch: Float32Array = new Float32Array(0)

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.spp_param
    this.height = getOr(p, "SPPParameter", "pyramid_height")
    if (!(this.height >= 1)) this.fail("spp_param.pyramid_height must be at least 1")
    if (getOr(p, "SPPParameter", "pool") === "STOCHASTIC") this.fail("STOCHASTIC pooling has no CPU implementation (as in Caffe)")
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    if (b.numAxes !== 4) this.fail(`input must have 4 axes, corresponding to (num, channels, height, width); got ${b.shapeString()}`)
    const [num, channels, height, width] = b.shape as [number, number, number, number]
    if (height <= 0 || width <= 0) this.fail(`input dimensions cannot be zero (${b.shapeString()})`)
    // Reshape runs before every forward: level buffers are kept while they are large enough, and live
    // in the backend's memory so the pooling kernels use them in place.
    const allocator = this.ctx.backend.allocator
    let total = 0
    for (let level = 0; level < this.height; level++) {
      const g = this.levelGeometry(level, num, channels, height, width)
      const n = num * channels * g.pooledH * g.pooledW
      const kept = this.levels[level]
      if (kept && kept.out.length >= n) this.levels[level] = { g, mask: kept.mask, out: kept.out }
      else this.levels[level] = { g, mask: allocInt32(allocator, n), out: allocator.allocFloat32(n) }
      total += channels * g.pooledH * g.pooledW
    }
    if (this.height === 1) {
      const g = this.levels[0]!.g
      top[0]!.reshape([num, channels, g.pooledH, g.pooledW])
    } else top[0]!.reshape([num, total])
    if (this.diffScratch.length < b.count) this.diffScratch = allocator.allocFloat32(b.count)
  }

  private levelGeometry(level: number, num: number, channels: number, height: number, width: number): PoolGeometry {
    const bins = 2 ** level
    const kernelH = Math.ceil(height / bins)
    const kernelW = Math.ceil(width / bins)
    const padH = Math.floor((kernelH * bins - height + 1) / 2)
    const padW = Math.floor((kernelW * bins - width + 1) / 2)
    if (padH >= kernelH || padW >= kernelW)
      this.fail(`pyramid level ${level}: pad (${padH}, ${padW}) must be smaller than kernel (${kernelH}, ${kernelW}) for a ${height}×${width} input (Caffe's Pooling check)`)
    const pooled = (size: number, k: number, pad: number): number => {
      let out = Math.ceil((size + 2 * pad - k) / k) + 1
      if (pad > 0 && (out - 1) * k >= size + pad) out--
      return out
    }
    return {
      num,
      channels,
      height,
      width,
      kernelH,
      kernelW,
      padH,
      padW,
      strideH: kernelH,
      strideW: kernelW,
      pooledH: pooled(height, kernelH, padH),
      pooledW: pooled(width, kernelW, padW)
    }
  }

  private get isMax(): boolean {
    return getOr(this.param.spp_param, "SPPParameter", "pool") === "MAX"
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const backend = this.ctx.backend
    const x = bottom[0]!.data
    const y = top[0]!.data
    const num = bottom[0]!.shape[0]!
    const rowLength = top[0]!.count / Math.max(num, 1)
    let offset = 0
    for (const { g, mask, out } of this.levels) {
      if (this.isMax) backend.maxPoolForward(g, x, out, mask)
      else backend.avePoolForward(g, x, out)
      const per = g.channels * g.pooledH * g.pooledW
      for (let n = 0; n < num; n++) y.set(out.subarray(n * per, (n + 1) * per), n * rowLength + offset)
      offset += per
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const backend = this.ctx.backend
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const count = bottom[0]!.count
    const num = bottom[0]!.shape[0]!
    const rowLength = top[0]!.count / Math.max(num, 1)
    dx.fill(0, 0, count)
    let offset = 0
    for (const { g, mask, out } of this.levels) {
      const per = g.channels * g.pooledH * g.pooledW
      // `out` now carries this level's top diff.
      for (let n = 0; n < num; n++) out.set(dy.subarray(n * rowLength + offset, n * rowLength + offset + per), n * per)
      if (this.isMax) backend.maxPoolBackward(g, out, mask, this.diffScratch)
      else backend.avePoolBackward(g, out, this.diffScratch)
      for (let i = 0; i < count; i++) dx[i] = dx[i]! + this.diffScratch[i]!
      offset += per
    }
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
