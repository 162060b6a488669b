import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * Clip: y = max(min, min(x, max)); dx = dy where min ≤ x ≤ max (inclusive, as Caffe), else 0.
 * `min` and `max` are required fields. Backward needs the input, kept when running in place.
 */
export class ClipLayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true
  private min = 0
  private max = 0

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.clip_param
    if (p?.min === undefined || p.max === undefined)
      throw new LayerSetupError(this.name, this.type, "clip_param.min and clip_param.max are required")
    this.min = p.min
    this.max = p.max
  }

  forward(bottom: Blob[], top: Blob[]): void {
    this.keepInput(bottom, top)
    const x = bottom[0]!.data
    const y = top[0]!.data
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = Math.max(this.min, Math.min(x[i]!, this.max))
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = this.inputFor(top, bottom)
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = x[i]! >= this.min && x[i]! <= this.max ? dy[i]! : 0
  }
}
