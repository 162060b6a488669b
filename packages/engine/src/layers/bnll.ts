import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"

/** Caffe's kBNLL_THRESHOLD: exp's argument is capped in backward so large inputs give gradient 1. */
const BNLL_THRESHOLD = 50

/** BNLL (binomial normal log likelihood): y = x + log(1 + e^−x) for x > 0, else log(1 + e^x). */
export class BNLLLayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true

  forward(bottom: Blob[], top: Blob[]): void {
    this.keepInput(bottom, top)
    const x = bottom[0]!.data
    const y = top[0]!.data
    for (let i = 0; i < bottom[0]!.count; i++) {
      const v = x[i]!
      y[i] = v > 0 ? v + Math.log(1 + Math.exp(-v)) : Math.log(1 + Math.exp(v))
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = this.inputFor(top, bottom)
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    for (let i = 0; i < bottom[0]!.count; i++) {
      const e = Math.exp(Math.min(x[i]!, BNLL_THRESHOLD))
      dx[i] = (dy[i]! * e) / (e + 1)
    }
  }
}
