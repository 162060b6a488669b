import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Reshape: a new shape for the same data (top shares bottom's data and diff). `shape.dim`: 0 copies the
 * bottom's dim at that position, −1 (at most one) is inferred from the count. `axis` (default 0; may be
 * negative, −1 = after the last axis) and `num_axes` (default −1 = to the end) select the bottom axes
 * replaced. Not allowed in place.
 */
export class ReshapeLayer extends Layer {
  private copyAxes: number[] = []
  private inferredAxis = -1
  private constantCount = 1

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(bottom: Blob[], top: Blob[]): void {
    if (top[0] === bottom[0]) this.fail("Reshape does not allow in-place computation")
    const dims = this.param.reshape_param?.shape?.dim ?? []
    this.copyAxes = []
    this.inferredAxis = -1
    this.constantCount = 1
    dims.forEach((d, i) => {
      if (d === 0) this.copyAxes.push(i)
      else if (d === -1) {
        if (this.inferredAxis !== -1) this.fail("new shape contains multiple -1 dims; at most a single (1) value of -1 may be specified")
        this.inferredAxis = i
      } else if (d < -1) this.fail(`invalid dimension ${d} in reshape_param.shape`)
      else this.constantCount *= d
    })
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const p = this.param.reshape_param
    const inputStart = getOr(p, "ReshapeParameter", "axis")
    const start = inputStart >= 0 ? inputStart : b.numAxes + inputStart + 1
    if (start < 0 || start > b.numAxes) this.fail(`axis ${inputStart} out of range for a ${b.numAxes}-D input blob`)
    const numAxes = getOr(p, "ReshapeParameter", "num_axes")
    if (numAxes < -1) this.fail(`num_axes must be >= 0, or -1 for all; got ${numAxes}`)
    const end = numAxes === -1 ? b.numAxes : start + numAxes
    if (end > b.numAxes) this.fail(`end_axis = axis + num_axes = ${end} is out of range for ${b.shapeString()}`)
    const dims = p?.shape?.dim ?? []
    const shape = [...b.shape.slice(0, start), ...dims, ...b.shape.slice(end)]
    for (const i of this.copyAxes) {
      if (start + i >= b.numAxes) this.fail(`new shape contains a 0 at ${i}, but there was no corresponding bottom axis to copy`)
      shape[start + i] = b.shape[start + i]!
    }
    if (this.inferredAxis >= 0) {
      let explicit = this.constantCount * b.countRange(0, start) * b.countRange(end)
      for (const i of this.copyAxes) explicit *= shape[start + i]!
      if (explicit === 0 || b.count % explicit !== 0)
        this.fail(`bottom count (${b.count}) must be divisible by the product of the specified dimensions (${explicit})`)
      shape[start + this.inferredAxis] = b.count / explicit
    }
    top[0]!.reshape(shape)
    if (top[0]!.count !== b.count) this.fail(`output count ${top[0]!.count} must match input count ${b.count} ([${shape.join(", ")}] from ${b.shapeString()})`)
    this.share(b, top[0]!)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    this.share(bottom[0]!, top[0]!)
  }

  backward(_top: Blob[], _propagateDown: boolean[], _bottom: Blob[]): void {}

  private share(b: Blob, t: Blob): void {
    t.shareData(b)
    t.shareDiff(b)
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
