import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"

/** Caffe's sigmoid, written through tanh to avoid overflow: 0.5·tanh(0.5x) + 0.5. */
export const sigmoid = (x: number): number => 0.5 * Math.tanh(0.5 * x) + 0.5

/** Sigmoid: y = σ(x); dx = dy·y(1−y) (uses only the output, so in place is free). */
export class SigmoidLayer extends NeuronLayer {
  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = sigmoid(x[i]!)
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    for (let i = 0; i < bottom[0]!.count; i++) {
      const s = y[i]!
      dx[i] = dy[i]! * s * (1 - s)
    }
  }
}
