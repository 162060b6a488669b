import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * Split: hands one bottom to several consumers (the Net inserts these). The tops share the bottom's data
 * storage; backward sums the tops' diffs into the bottom's diff.
 */
export class SplitLayer extends Layer {
  override exactNumBottomBlobs(): number {
    return 1
  }
  override minTopBlobs(): number {
    return 1
  }
  layerSetUp(): void {}
  reshape(bottom: Blob[], top: Blob[]): void {
    for (const t of top) {
      if (t === bottom[0]) throw this.setupError("does not allow in-place computation")
      t.reshapeLike(bottom[0]!)
      t.shareData(bottom[0]!)
    }
  }
  forward(bottom: Blob[], top: Blob[]): void {
    // Re-share in case the bottom's storage was reallocated by a growing reshape upstream.
    for (const t of top) if (t.data !== bottom[0]!.data) t.shareData(bottom[0]!)
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const n = bottom[0]!.count
    const d = bottom[0]!.diff
    d.set(top[0]!.diff.subarray(0, n))
    for (let i = 1; i < top.length; i++) this.ctx.backend.axpy(n, 1, top[i]!.diff, 0, d, 0)
  }
}
