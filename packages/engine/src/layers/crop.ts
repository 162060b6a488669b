import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Crop: cuts bottom[0] to bottom[1]'s shape on the axes from `axis` (default 2) on, starting at
 * `offset` (none = 0; one = the same for every cropped axis; else one per cropped axis). Axes before
 * `axis` keep bottom[0]'s size. Backward scatters the top diff back and zeroes the rest; bottom[1] only
 * supplies a shape.
 */
export class CropLayer extends Layer {
  private offsets: number[] = []

  override exactNumBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex === 0
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const start = this.startAxis(bottom[0]!)
    const n = this.param.crop_param?.offset?.length ?? 0
    if (n > 1 && start + n !== bottom[0]!.numAxes)
      this.fail(`number of offset values (${n}) must equal the number of dimensions following axis ${start} (${bottom[0]!.numAxes - start})`)
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const [b, ref] = [bottom[0]!, bottom[1]!]
    const start = this.startAxis(b)
    const given = this.param.crop_param?.offset ?? []
    const shape = [...b.shape]
    this.offsets = new Array<number>(b.numAxes).fill(0)
    for (let i = start; i < b.numAxes; i++) {
      if (i >= ref.numAxes) this.fail(`bottom[1] ${ref.shapeString()} has no axis ${i} to crop to`)
      const offset = given.length === 1 ? given[0]! : given.length > 1 ? given[i - start]! : 0
      if (b.shape[i]! - offset < ref.shape[i]!)
        this.fail(`the crop for dimension ${i} is out-of-bounds with size ${ref.shape[i]} and offset ${offset} (bottom[0] ${b.shapeString()})`)
      shape[i] = ref.shape[i]!
      this.offsets[i] = offset
    }
    top[0]!.reshape(shape)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    this.eachRow(bottom[0]!, top[0]!, (src, dst, len) => top[0]!.data.set(bottom[0]!.data.subarray(src, src + len), dst))
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    bottom[0]!.zeroDiff()
    this.eachRow(bottom[0]!, top[0]!, (src, dst, len) => bottom[0]!.diff.set(top[0]!.diff.subarray(dst, dst + len), src))
  }

  /** Visits each innermost row of the top: (bottom offset, top offset, row length). */
  private eachRow(b: Blob, t: Blob, visit: (src: number, dst: number, len: number) => void): void {
    const nAxes = t.numAxes
    if (t.count === 0) return
    const last = nAxes - 1
    const len = t.shape[last]!
    const idx = new Array<number>(Math.max(last, 0)).fill(0)
    const bStride = b.shape.map((_, i) => b.countRange(i + 1))
    for (let row = 0, rows = t.countRange(0, last); row < rows; row++) {
      let src = this.offsets[last]!
      for (let a = 0; a < last; a++) src += (idx[a]! + this.offsets[a]!) * bStride[a]!
      visit(src, row * len, len)
      for (let a = last - 1; a >= 0; a--) {
        if (++idx[a]! < t.shape[a]!) break
        idx[a] = 0
      }
    }
  }

  private startAxis(b: Blob): number {
    const axis = getOr(this.param.crop_param, "CropParameter", "axis")
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
