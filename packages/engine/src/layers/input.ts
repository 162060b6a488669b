import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** Input: tops with declared shapes (one shape for all tops, or one per top); the caller fills them. */
export class InputLayer extends Layer {
  override exactNumBottomBlobs(): number {
    return 0
  }
  override minTopBlobs(): number {
    return 1
  }
  layerSetUp(_bottom: Blob[], top: Blob[]): void {
    const shapes = this.param.input_param?.shape ?? []
    if (shapes.length !== 0 && shapes.length !== 1 && shapes.length !== top.length)
      throw this.setupError(`input_param.shape must be specified once, or once per top blob (${shapes.length} shapes for ${top.length} tops)`)
    if (shapes.length === 0) return
    top.forEach((t, i) => t.reshape((shapes.length === 1 ? shapes[0]! : shapes[i]!).dim ?? []))
  }
  /** Data is set externally; whatever shape the caller gave the tops stays. */
  reshape(): void {}
  forward(): void {}
  backward(): void {}
}
