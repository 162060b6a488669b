import { getOr } from "@deepspark/caffe"
import type { ReductionParameter_ReductionOp } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Reduction: reduces all axes from `axis` (default 0 → a 0-axis scalar) to the end with `operation`
 * SUM (default), ASUM (Σ|x|), SUMSQ (Σx²) or MEAN, times `coeff` (default 1). The top keeps the axes
 * before `axis`. Gradients: coeff·dy, coeff·sign(x)·dy, 2·coeff·x·dy, coeff/dim·dy.
 */
export class ReductionLayer extends Layer {
  private op: ReductionParameter_ReductionOp = "SUM"
  private num = 1
  private dim = 1
  private coeff = 1

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    this.op = getOr(this.param.reduction_param, "ReductionParameter", "operation")
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const p = this.param.reduction_param
    let axis: number
    try {
      axis = b.canonicalAxis(getOr(p, "ReductionParameter", "axis"))
    } catch (e) {
      throw new LayerSetupError(this.name, this.type, (e as Error).message)
    }
    top[0]!.reshape(b.shape.slice(0, axis))
    this.num = b.countRange(0, axis)
    this.dim = b.countRange(axis)
    this.coeff = getOr(p, "ReductionParameter", "coeff")
    if (this.op === "MEAN") this.coeff = Math.fround(this.coeff / this.dim)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    const { num, dim, op, coeff } = this
    for (let i = 0; i < num; i++) {
      let s = 0
      const o = i * dim
      if (op === "SUM" || op === "MEAN") for (let k = 0; k < dim; k++) s += x[o + k]!
      else if (op === "ASUM") for (let k = 0; k < dim; k++) s += Math.abs(x[o + k]!)
      else for (let k = 0; k < dim; k++) s += x[o + k]! * x[o + k]!
      y[i] = coeff === 1 ? s : Math.fround(s) * coeff
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = bottom[0]!.data
    const dx = bottom[0]!.diff
    const dy = top[0]!.diff
    const { num, dim, op, coeff } = this
    for (let i = 0; i < num; i++) {
      const g = Math.fround(dy[i]! * coeff)
      const o = i * dim
      if (op === "SUM" || op === "MEAN") dx.fill(g, o, o + dim)
      else if (op === "ASUM") for (let k = 0; k < dim; k++) dx[o + k] = Math.sign(x[o + k]!) * g
      else for (let k = 0; k < dim; k++) dx[o + k] = 2 * g * x[o + k]!
    }
  }
}
