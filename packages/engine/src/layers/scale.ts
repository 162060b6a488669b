import type { BiasParameter, LayerParameter } from "@deepspark/caffe"
import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"
import { fillBlob } from "../fillers/fill.js"
import { BiasLayer } from "./bias.js"

/**
 * Scale: y = x ⊙ s (+ b), s broadcast over bottom[0] from `axis` (default 1) for `num_axes` axes
 * (default 1; −1 = to the end; 0 = scalar). s is bottom[1] when given, else a learned blob filled by
 * `filler` (absent: constant 1). With `bias_term` an inner Bias layer (axis, num_axes = bottom[1]'s
 * axis count or num_axes, filler = bias_filler) adds b in place on the top, and its blob becomes this
 * layer's last blob — Caffe's composition exactly. Parameter diffs accumulate; bottom[1]'s diff is
 * written. In place keeps a copy of the input for the scale gradient.
 */
export class ScaleLayer extends Layer {
  private biasLayer: BiasLayer | undefined
  private outer = 1
  private scaleDim = 1
  private inner = 1
  private temp = new Float32Array(0)

  override minBottomBlobs(): number {
    return 1
  }
  override maxBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(bottom: Blob[], top: Blob[]): void {
    const p = this.param.scale_param
    const b = bottom[0]!
    if (bottom.length === 1 && this.blobs.length === 0) {
      const axis = this.canonical(b, getOr(p, "ScaleParameter", "axis"))
      const numAxes = getOr(p, "ScaleParameter", "num_axes")
      if (numAxes < -1) this.fail(`num_axes must be non-negative, or -1 to extend to the end of bottom[0]; got ${numAxes}`)
      if (numAxes >= 0 && b.numAxes < axis + numAxes)
        this.fail(`scale blob's shape extends past bottom[0]'s shape ${b.shapeString()} when applied starting with bottom[0] axis = ${axis}`)
      const scale = new Blob(b.shape.slice(axis, numAxes === -1 ? undefined : axis + numAxes))
      fillBlob(scale, p?.filler ?? { type: "constant", value: 1 }, this.ctx.rng)
      this.blobs = [scale]
    }
    if (getOr(p, "ScaleParameter", "bias_term")) {
      const biasParam: BiasParameter = {
        axis: getOr(p, "ScaleParameter", "axis"),
        num_axes: bottom.length > 1 ? bottom[1]!.numAxes : getOr(p, "ScaleParameter", "num_axes"),
        ...(p?.bias_filler !== undefined ? { filler: p.bias_filler } : {})
      }
      const layerParam: LayerParameter = { ...this.param, type: "Bias", bias_param: biasParam }
      this.biasLayer = new BiasLayer(layerParam, this.ctx)
      const hasOwnBias = this.blobs.length + bottom.length >= 3
      if (hasOwnBias) this.biasLayer.blobs = [this.blobs[this.blobs.length - 1]!]
      this.biasLayer.setUp([b], top)
      if (!hasOwnBias) this.blobs.push(this.biasLayer.blobs[0]!)
    }
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const scale = bottom.length > 1 ? bottom[1]! : this.blobs[0]!
    const axis = scale.numAxes === 0 ? 0 : this.canonical(b, getOr(this.param.scale_param, "ScaleParameter", "axis"))
    if (b.numAxes < axis + scale.numAxes)
      this.fail(`scale blob's shape extends past bottom[0]'s shape ${b.shapeString()} when applied starting with bottom[0] axis = ${axis}`)
    for (let i = 0; i < scale.numAxes; i++) {
      if (b.shape[axis + i] !== scale.shape[i])
        this.fail(`dimension mismatch between bottom[0] shape(${axis + i}) = ${b.shape[axis + i]} and scale shape(${i}) = ${scale.shape[i]}`)
    }
    this.outer = b.countRange(0, axis)
    this.scaleDim = scale.count
    this.inner = b.countRange(axis + scale.numAxes)
    if (top[0] === b) {
      if (this.temp.length < b.count) this.temp = new Float32Array(b.count)
    } else top[0]!.reshapeLike(b)
    this.biasLayer?.reshape([top[0]!], top)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    if (top[0] === b) this.temp.set(b.data.subarray(0, b.count))
    const s = (bottom.length > 1 ? bottom[1]! : this.blobs[0]!).data
    const x = b.data
    const y = top[0]!.data
    const { outer, scaleDim, inner } = this
    let i = 0
    for (let n = 0; n < outer; n++)
      for (let d = 0; d < scaleDim; d++) {
        const f = s[d]!
        for (let k = 0; k < inner; k++, i++) y[i] = x[i]! * f
      }
    this.biasLayer?.forward([top[0]!], top)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (this.biasLayer && this.paramPropagateDown(this.blobs.length - 1)) this.biasLayer.backward(top, [false], [top[0]!])
    const isParam = bottom.length === 1
    const scale = isParam ? this.blobs[0]! : bottom[1]!
    const dy = top[0]!.diff
    const { outer, scaleDim, inner } = this
    if (isParam ? this.paramPropagateDown(0) : propagateDown[1]) {
      const x = top[0] === bottom[0] ? this.temp : bottom[0]!.data
      const sums = new Float64Array(scaleDim)
      let i = 0
      for (let n = 0; n < outer; n++)
        for (let d = 0; d < scaleDim; d++) {
          let s = 0
          for (let k = 0; k < inner; k++, i++) s += dy[i]! * x[i]!
          sums[d] = sums[d]! + s
        }
      const ds = scale.diff
      for (let d = 0; d < scaleDim; d++) ds[d] = isParam ? ds[d]! + sums[d]! : sums[d]!
    }
    if (propagateDown[0]) {
      const s = scale.data
      const dx = bottom[0]!.diff
      let i = 0
      for (let n = 0; n < outer; n++)
        for (let d = 0; d < scaleDim; d++) {
          const f = s[d]!
          for (let k = 0; k < inner; k++, i++) dx[i] = dy[i]! * f
        }
    }
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
