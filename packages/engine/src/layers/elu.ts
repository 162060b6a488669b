import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * ELU: y = max(x,0) + α(e^{min(x,0)} − 1); dx = dy·(x > 0 ? 1 : α + y). Backward tests the sign of the
 * original input, so in place the input is kept (for α ≤ 0 the output's sign would not tell).
 */
export class ELULayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true
  private alpha = 1

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    this.alpha = getOr(this.param.elu_param, "ELUParameter", "alpha")
  }

  forward(bottom: Blob[], top: Blob[]): void {
    this.keepInput(bottom, top)
    const x = bottom[0]!.data
    const y = top[0]!.data
    const a = this.alpha
    for (let i = 0; i < bottom[0]!.count; i++) {
      const v = x[i]!
      y[i] = Math.max(v, 0) + a * (Math.exp(Math.min(v, 0)) - 1)
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const x = this.inputFor(top, bottom)
    const y = top[0]!.data
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const a = this.alpha
    for (let i = 0; i < bottom[0]!.count; i++) dx[i] = dy[i]! * (x[i]! > 0 ? 1 : a + y[i]!)
  }
}
