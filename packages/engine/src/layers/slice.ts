import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Slice: splits bottom[0] along `axis` (default 1; or the deprecated `slice_dim`, never both) into the
 * tops, at the given `slice_point`s (one fewer than tops, strictly increasing) or evenly. With a single
 * top the top shares the bottom's data and diff, as in Caffe.
 */
export class SliceLayer extends Layer {
  private axis = 1
  private numSlices = 1
  private sliceSize = 1

  override exactNumBottomBlobs(): number {
    return 1
  }
  override minTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.slice_param
    if (p?.axis !== undefined && p.slice_dim !== undefined) this.fail("either axis or slice_dim should be specified; not both")
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const p = this.param.slice_param
    if (p?.slice_dim !== undefined) {
      if (p.slice_dim < 0 || p.slice_dim >= b.numAxes) this.fail(`slice_dim ${p.slice_dim} out of range for ${b.shapeString()}`)
      this.axis = p.slice_dim
    } else {
      try {
        this.axis = b.canonicalAxis(getOr(p, "SliceParameter", "axis"))
      } catch (e) {
        this.fail((e as Error).message)
      }
    }
    const axisSize = b.shape[this.axis]!
    this.numSlices = b.countRange(0, this.axis)
    this.sliceSize = b.countRange(this.axis + 1)
    const points = p?.slice_point ?? []
    const sizes: number[] = []
    if (points.length > 0) {
      if (points.length !== top.length - 1) this.fail(`${points.length} slice_point(s) given for ${top.length} tops (need ${top.length - 1})`)
      if (top.length > axisSize) this.fail(`${top.length} tops exceed slice axis ${this.axis} of size ${axisSize} (${b.shapeString()})`)
      let prev = 0
      for (const point of points) {
        if (!(point > prev)) this.fail(`slice_point values must increase strictly from above 0; got [${points.join(", ")}]`)
        sizes.push(point - prev)
        prev = point
      }
      if (prev >= axisSize) this.fail(`slice_point ${prev} is beyond slice axis size ${axisSize}`)
      sizes.push(axisSize - prev)
    } else {
      if (axisSize % top.length !== 0) this.fail(`number of top blobs (${top.length}) should evenly divide input slice axis (${axisSize})`)
      for (let i = 0; i < top.length; i++) sizes.push(axisSize / top.length)
    }
    top.forEach((t, i) => {
      const shape = [...b.shape]
      shape[this.axis] = sizes[i]!
      t.reshape(shape)
    })
    if (top.length === 1) this.share(b, top[0]!)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    if (top.length === 1) return this.share(bottom[0]!, top[0]!)
    this.copy(bottom, top, true)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0] || top.length === 1) return
    this.copy(bottom, top, false)
  }

  private copy(bottom: Blob[], top: Blob[], forward: boolean): void {
    const b = bottom[0]!
    const bottomAxis = b.shape[this.axis]!
    let offset = 0
    for (const t of top) {
      const topAxis = t.shape[this.axis]!
      const len = topAxis * this.sliceSize
      for (let n = 0; n < this.numSlices; n++) {
        const to = n * len
        const bo = (n * bottomAxis + offset) * this.sliceSize
        if (forward) t.data.set(b.data.subarray(bo, bo + len), to)
        else b.diff.set(t.diff.subarray(to, to + len), bo)
      }
      offset += topAxis
    }
  }

  private share(b: Blob, t: Blob): void {
    t.shareData(b)
    t.shareDiff(b)
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
