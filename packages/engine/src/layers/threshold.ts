import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { NeuronLayer } from "./neuron-layer.js"

/** Threshold: y = x > threshold ? 1 : 0. Like Caffe it has no backward (a step has no gradient). */
export class ThresholdLayer extends NeuronLayer {
  private threshold = 0

  override layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    this.threshold = getOr(this.param.threshold_param, "ThresholdParameter", "threshold")
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    for (let i = 0; i < bottom[0]!.count; i++) y[i] = x[i]! > this.threshold ? 1 : 0
  }

  backward(_top: Blob[], propagateDown: boolean[], _bottom: Blob[]): void {
    if (propagateDown[0]) throw new LayerSetupError(this.name, this.type, "Threshold has no backward (not implemented in Caffe either)")
  }
}
