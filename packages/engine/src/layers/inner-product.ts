import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import { fillBlob } from "../fillers/fill.js"

/**
 * InnerProduct: y = x·Wᵀ + b over M = count(0, axis) rows of K = count(axis) inputs. W is (N, K), or
 * (K, N) with `transpose`; the bias (N) is added with a gemm against a ones vector, as Caffe does.
 */
export class InnerProductLayer extends Layer {
  private M = 0
  private K = 0
  private N = 0
  private biasTerm = true
  private transpose = false
  private ones: Float32Array = new Float32Array(0)

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(bottom: Blob[]): void {
    const p = this.param.inner_product_param
    if (p?.num_output === undefined) throw this.setupError("inner_product_param.num_output is required")
    this.N = p.num_output
    this.biasTerm = getOr(p, "InnerProductParameter", "bias_term")
    this.transpose = getOr(p, "InnerProductParameter", "transpose")
    const axis = bottom[0]!.canonicalAxis(getOr(p, "InnerProductParameter", "axis"))
    this.K = bottom[0]!.countRange(axis)
    const w = new Blob(this.transpose ? [this.K, this.N] : [this.N, this.K])
    fillBlob(w, p.weight_filler, this.ctx.rng)
    this.blobs = [w]
    if (this.biasTerm) {
      const b = new Blob([this.N])
      fillBlob(b, p.bias_filler, this.ctx.rng)
      this.blobs.push(b)
    }
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const axis = b.canonicalAxis(getOr(this.param.inner_product_param, "InnerProductParameter", "axis"))
    const k = b.countRange(axis)
    if (k !== this.K)
      throw this.setupError(`input size incompatible with inner product parameters: bottom "${b.shape.join("×")}" gives ${k} inputs from axis ${axis}, weights expect ${this.K}`)
    this.M = b.countRange(0, axis)
    top[0]!.reshape([...b.shape.slice(0, axis), this.N])
    if (this.biasTerm && this.ones.length !== this.M) this.ones = this.ctx.backend.allocator.allocFloat32(this.M).fill(1)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    const be = this.ctx.backend
    const { M, N, K } = this
    be.gemm(false, !this.transpose, M, N, K, 1, bottom[0]!.data, 0, this.blobs[0]!.data, 0, 0, top[0]!.data, 0)
    if (this.biasTerm) be.gemm(false, false, M, N, 1, 1, this.ones, 0, this.blobs[1]!.data, 0, 1, top[0]!.data, 0)
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const be = this.ctx.backend
    const { M, N, K } = this
    const dy = top[0]!.diff
    const x = bottom[0]!.data
    if (this.paramPropagateDown(0)) {
      if (this.transpose) be.gemm(true, false, K, N, M, 1, x, 0, dy, 0, 1, this.blobs[0]!.diff, 0)
      else be.gemm(true, false, N, K, M, 1, dy, 0, x, 0, 1, this.blobs[0]!.diff, 0)
    }
    if (this.biasTerm && this.paramPropagateDown(1)) be.gemv(true, M, N, 1, dy, 0, this.ones, 0, 1, this.blobs[1]!.diff, 0)
    if (propagateDown[0]) be.gemm(false, this.transpose, M, K, N, 1, dy, 0, this.blobs[0]!.data, 0, 0, bottom[0]!.diff, 0)
  }
}
