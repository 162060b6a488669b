import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** Concat: joins the bottoms along `axis` (or the deprecated `concat_dim`). */
export class ConcatLayer extends Layer {
  private axis = 1

  override minBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(): void {
    const p = this.param.concat_param
    if (p?.concat_dim !== undefined && p.axis !== undefined)
      throw this.setupError("either axis or concat_dim should be specified; not both")
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    const p = this.param.concat_param
    const b0 = bottom[0]!
    if (p?.concat_dim !== undefined) {
      this.axis = p.concat_dim
      if (this.axis < 0 || this.axis >= b0.numAxes) throw this.setupError(`concat_dim ${this.axis} out of range for ${b0.numAxes}-D bottom`)
    } else this.axis = b0.canonicalAxis(p?.axis ?? 1)
    const shape = [...b0.shape]
    for (let i = 1; i < bottom.length; i++) {
      const b = bottom[i]!
      if (b.numAxes !== b0.numAxes) throw this.setupError(`all inputs must have the same number of axes: bottom[0] is [${b0.shape.join(", ")}], bottom[${i}] is [${b.shape.join(", ")}]`)
      for (let j = 0; j < b0.numAxes; j++) {
        if (j === this.axis) continue
        if (b.shape[j] !== b0.shape[j])
          throw this.setupError(`all inputs must have the same shape except at axis ${this.axis}: bottom[0] is [${b0.shape.join(", ")}], bottom[${i}] is [${b.shape.join(", ")}]`)
      }
      shape[this.axis]! += b.shape[this.axis]!
    }
    top[0]!.reshape(shape)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    this.copySlices(bottom, top[0]!, (b, bOff, t, tOff, n) => t.data.set(b.data.subarray(bOff, bOff + n), tOff))
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    this.copySlices(bottom, top[0]!, (b, bOff, t, tOff, n, i) => {
      if (propagateDown[i]) b.diff.set(t.diff.subarray(tOff, tOff + n), bOff)
    })
  }
  private copySlices(
    bottom: Blob[],
    top: Blob,
    copy: (b: Blob, bOff: number, t: Blob, tOff: number, n: number, index: number) => void
  ): void {
    const outer = top.countRange(0, this.axis)
    const inner = top.countRange(this.axis + 1)
    const topAxis = top.shape[this.axis]!
    let offset = 0
    bottom.forEach((b, i) => {
      const axisLen = b.shape[this.axis]!
      for (let o = 0; o < outer; o++) copy(b, o * axisLen * inner, top, (o * topAxis + offset) * inner, axisLen * inner, i)
      offset += axisLen
    })
  }
}
