import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * BatchReindex: top[n] = bottom[0][index[n]] for a 1-D index blob bottom[1] (values in [0, N)); the top
 * has index.count items. Backward scatters-adds into bottom[0]'s diff (repeated indices sum); no
 * gradient to the indices.
 */
export class BatchReindexLayer extends Layer {
  override exactNumBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex === 0
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  reshape(bottom: Blob[], top: Blob[]): void {
    if (bottom[1]!.numAxes !== 1) this.fail(`the index blob bottom[1] must be 1-D, got ${bottom[1]!.shapeString()}`)
    top[0]!.reshape([bottom[1]!.shape[0]!, ...bottom[0]!.shape.slice(1)])
  }

  private indices(bottom: Blob[]): number[] {
    const n = bottom[0]!.shape[0]!
    return Array.from(bottom[1]!.data.subarray(0, bottom[1]!.count), (v, i) => {
      if (v < 0) this.fail(`index ${i} for reindex layer was negative (${v})`)
      if (v >= n) this.fail(`index ${i} for reindex layer was greater than batch size (${v} >= ${n})`)
      return Math.trunc(v)
    })
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const idx = this.indices(bottom)
    const inner = bottom[0]!.countRange(1)
    const x = bottom[0]!.data
    idx.forEach((src, n) => top[0]!.data.set(x.subarray(src * inner, (src + 1) * inner), n * inner))
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (propagateDown[1]) this.fail("cannot backprop to index")
    if (!propagateDown[0]) return
    const idx = this.indices(bottom)
    const inner = bottom[0]!.countRange(1)
    const dx = bottom[0]!.diff
    const dy = top[0]!.diff
    bottom[0]!.zeroDiff()
    idx.forEach((dst, n) => {
      for (let k = 0; k < inner; k++) dx[dst * inner + k] = dx[dst * inner + k]! + dy[n * inner + k]!
    })
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
