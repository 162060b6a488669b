import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * AbsVal: y = |x|, dx = sign(x)·dy (sign(0) = 0). Caffe refuses in-place AbsVal; here in place works
 * (the input is kept for backward), a strict superset.
 */
export class AbsValLayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true

  forward(bottom: Blob[], top: Blob[]): void {
    this.keepInput(bottom, top)
    const x = bottom[0]!.data
    const y = top[0]!.data
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = Math.abs(x[i]!)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = this.inputFor(top, bottom)
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = dy[i]! * Math.sign(x[i]!)
  }
}
