import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"
import { fillBlob } from "../fillers/fill.js"

/**
 * Bias: y = x + b, b broadcast over bottom[0] starting at `axis` (default 1) for `num_axes` axes
 * (default 1; −1 = to the end; 0 = a scalar). b is bottom[1] when given, else a learned blob filled by
 * `filler` (default constant 0). A scalar b always uses axis 0 (any axis is equivalent).
 * Backward: dx = dy (nothing to do in place); db = Σ dy over the outer and inner dims — accumulated
 * into the parameter's diff, written into bottom[1]'s diff.
 */
export class BiasLayer extends Layer {
  private outer = 1
  private biasDim = 1
  private inner = 1

  override minBottomBlobs(): number {
    return 1
  }
  override maxBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    if (bottom.length !== 1 || this.blobs.length > 0) return
    const p = this.param.bias_param
    const b = bottom[0]!
    const axis = this.canonical(b, getOr(p, "BiasParameter", "axis"))
    const numAxes = getOr(p, "BiasParameter", "num_axes")
    if (numAxes < -1) this.fail(`num_axes must be non-negative, or -1 to extend to the end of bottom[0]; got ${numAxes}`)
    if (numAxes >= 0 && b.numAxes < axis + numAxes)
      this.fail(`bias blob's shape extends past bottom[0]'s shape ${b.shapeString()} when applied starting with bottom[0] axis = ${axis}`)
    const shape = b.shape.slice(axis, numAxes === -1 ? undefined : axis + numAxes)
    const bias = new Blob(shape)
    fillBlob(bias, p?.filler, this.ctx.rng)
    this.blobs = [bias]
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const bias = bottom.length > 1 ? bottom[1]! : this.blobs[0]!
    const axis = bias.numAxes === 0 ? 0 : this.canonical(b, getOr(this.param.bias_param, "BiasParameter", "axis"))
    if (b.numAxes < axis + bias.numAxes)
      this.fail(`bias blob's shape extends past bottom[0]'s shape ${b.shapeString()} when applied starting with bottom[0] axis = ${axis}`)
    for (let i = 0; i < bias.numAxes; i++) {
      if (b.shape[axis + i] !== bias.shape[i])
        this.fail(`dimension mismatch between bottom[0] shape(${axis + i}) = ${b.shape[axis + i]} and bias shape(${i}) = ${bias.shape[i]}`)
    }
    this.outer = b.countRange(0, axis)
    this.biasDim = bias.count
    this.inner = b.countRange(axis + bias.numAxes)
    if (top[0] !== b) top[0]!.reshapeLike(b)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const bias = (bottom.length > 1 ? bottom[1]! : this.blobs[0]!).data
    const x = bottom[0]!.data
    const y = top[0]!.data
    const { outer, biasDim, inner } = this
    let i = 0
    for (let n = 0; n < outer; n++)
      for (let d = 0; d < biasDim; d++) {
        const v = bias[d]!
        for (let k = 0; k < inner; k++, i++) y[i] = x[i]! + v
      }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const dy = top[0]!.diff
    if (propagateDown[0] && bottom[0] !== top[0]) bottom[0]!.diff.set(dy.subarray(0, top[0]!.count))
    const isParam = bottom.length === 1
    if (isParam ? !this.paramPropagateDown(0) : !propagateDown[1]) return
    const target = isParam ? this.blobs[0]! : bottom[1]!
    const db = target.diff
    const { outer, biasDim, inner } = this
    const sums = new Float64Array(biasDim)
    let i = 0
    for (let n = 0; n < outer; n++)
      for (let d = 0; d < biasDim; d++) {
        let s = 0
        for (let k = 0; k < inner; k++, i++) s += dy[i]!
        sums[d] = sums[d]! + s
      }
    for (let d = 0; d < biasDim; d++) db[d] = isParam ? db[d]! + sums[d]! : sums[d]!
  }

  private canonical(b: Blob, axis: number): number {
    try {
      return b.canonicalAxis(axis)
    } catch (e) {
      this.fail((e as Error).message)
    }
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
