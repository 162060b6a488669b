import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"

/** TanH: y = tanh(x); dx = dy·(1 − y²) (uses only the output, so in place is free). */
export class TanHLayer extends NeuronLayer {
  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = Math.tanh(x[i]!)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    for (let i = 0; i < bottom[0]!.count; i++) {
      const t = y[i]!
      dx[i] = dy[i]! * (1 - t * t)
    }
  }
}
