import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Filter: the last bottom is a selector (shape (N), or (N, 1, …)); each other bottom i passes to top i
 * only the items n whose selector is non-zero. The item count is decided in reshape from the selector's
 * current data (at setup all N items, as Caffe's first reshape). Backward copies diffs back to the
 * forwarded items and zeroes the others; the selector gets no gradient.
 */
export class FilterLayer extends Layer {
  private forwarded: number[] = []
  private firstReshape = true

  override minBottomBlobs(): number {
    return 2
  }
  override minTopBlobs(): number {
    return 1
  }
  /** force_backward never reaches the selector (the last bottom), which has no gradient. */
  override allowForceBackward(bottomIndex: number): boolean {
    const n = this.param.bottom?.length
    return n === undefined || bottomIndex !== n - 1
  }

  layerSetUp(bottom: Blob[], top: Blob[]): void {
    if (top.length !== bottom.length - 1) this.fail(`needs one top per filtered bottom: ${bottom.length - 1} expected, got ${top.length}`)
    this.firstReshape = true
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const selector = bottom[bottom.length - 1]!
    for (let i = 1; i < selector.numAxes; i++) {
      if (selector.shape[i] !== 1) this.fail(`selector blob dimensions must be singletons (1), except the first; got ${selector.shapeString()}`)
    }
    const n = selector.shape[0]!
    for (let i = 0; i < bottom.length - 1; i++) {
      if (bottom[i]!.shape[0] !== n) this.fail(`each bottom should have the same 0th dimension as the selector blob (${n}); bottom[${i}] is ${bottom[i]!.shapeString()}`)
    }
    this.forwarded = []
    for (let item = 0; item < n; item++) if (selector.data[item] !== 0) this.forwarded.push(item)
    const count = this.firstReshape ? bottom[0]!.shape[0]! : this.forwarded.length
    this.firstReshape = false
    top.forEach((t, i) => t.reshape([count, ...bottom[i]!.shape.slice(1)]))
  }

  forward(bottom: Blob[], top: Blob[]): void {
    top.forEach((t, i) => {
      const dim = bottom[i]!.countRange(1)
      const x = bottom[i]!.data
      this.forwarded.forEach((src, n) => t.data.set(x.subarray(src * dim, (src + 1) * dim), n * dim))
    })
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (propagateDown[bottom.length - 1]) this.fail("cannot backpropagate to the filter selector input")
    top.forEach((t, i) => {
      if (!propagateDown[i]) return
      const dim = bottom[i]!.countRange(1)
      const dx = bottom[i]!.diff
      bottom[i]!.zeroDiff()
      this.forwarded.forEach((dst, n) => dx.set(t.diff.subarray(n * dim, (n + 1) * dim), dst * dim))
    })
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
