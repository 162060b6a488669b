import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { LossLayer } from "./loss-layer.js"

/**
 * EuclideanLoss: Σ(a − b)² / (2N), N = bottom[0]'s first dim; both bottoms may take gradients
 * (±weight·(a − b)/N), so force_backward reaches both.
 */
export class EuclideanLossLayer extends LossLayer {
  private diff = new Float32Array(0)

  override allowForceBackward(_bottomIndex: number): boolean {
    return true
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top)
    if (bottom[0]!.countRange(1) !== bottom[1]!.countRange(1))
      this.fail(`inputs must have the same dimension (bottom[0] ${bottom[0]!.shapeString()}, bottom[1] ${bottom[1]!.shapeString()})`)
    if (this.diff.length < bottom[0]!.count) this.diff = new Float32Array(bottom[0]!.count)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const a = bottom[0]!.data
    const b = bottom[1]!.data
    let dot = 0
    for (let i = 0; i < bottom[0]!.count; i++) {
      const d = (this.diff[i] = a[i]! - b[i]!)
      dot += this.diff[i]! * d
    }
    top[0]!.data[0] = Math.fround(dot) / bottom[0]!.num / 2
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    for (let k = 0; k < 2; k++) {
      if (!propagateDown[k]) continue
      const alpha = ((k === 0 ? 1 : -1) * top[0]!.diff[0]!) / bottom[k]!.num
      const dx = bottom[k]!.diff
      for (let i = 0; i < bottom[k]!.count; i++) dx[i] = alpha * this.diff[i]!
    }
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
