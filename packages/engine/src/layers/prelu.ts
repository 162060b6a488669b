import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { LayerSetupError } from "../core/layer.js"
import { fillBlob } from "../fillers/fill.js"
import { NeuronLayer } from "./neuron-layer.js"

/**
 * PReLU: y = max(x,0) + a_c·min(x,0) with a learned slope per channel (axis 1), or one 0-axis slope
 * with `channel_shared`. Slopes start from `filler` (absent: constant 0.25). The slope gradient
 * Σ dy·x·[x ≤ 0] is accumulated, and computed before the bottom gradient so that in place (dy and dx
 * the same array) it still reads the untouched top diff; the input is kept when running in place.
 */
export class PReLULayer extends NeuronLayer {
  protected override readonly needsInputInBackward = true
  private channelShared = false

  override layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const b = bottom[0]!
    if (b.numAxes < 2) throw new LayerSetupError(this.name, this.type, `bottom must have at least 2 axes, got ${b.shapeString()}`)
    const p = this.param.prelu_param
    this.channelShared = getOr(p, "PReLUParameter", "channel_shared")
    const channels = b.shape[1]!
    if (this.blobs.length === 0) {
      const slopes = new Blob(this.channelShared ? [] : [channels])
      fillBlob(slopes, p?.filler ?? { type: "constant", value: 0.25 }, this.ctx.rng)
      this.blobs = [slopes]
    }
    const expected = this.channelShared ? 1 : channels
    if (this.blobs[0]!.count !== expected)
      throw new LayerSetupError(this.name, this.type, `negative slope size ${this.blobs[0]!.count} is inconsistent with prototxt config (expected ${expected})`)
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    if (bottom[0]!.numAxes < 2) throw new LayerSetupError(this.name, this.type, `bottom must have at least 2 axes, got ${bottom[0]!.shapeString()}`)
    super.reshape(bottom, top)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    this.keepInput(bottom, top)
    const b = bottom[0]!
    const x = b.data
    const y = top[0]!.data
    const slope = this.blobs[0]!.data
    const dim = b.countRange(2)
    const channels = b.shape[1]!
    for (let i = 0; i < b.count; i++) {
      const c = this.channelShared ? 0 : Math.floor(i / dim) % channels
      const v = x[i]!
      y[i] = Math.max(v, 0) + slope[c]! * Math.min(v, 0)
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const b = bottom[0]!
    const x = this.inputFor(top, bottom)
    const dy = top[0]!.diff
    const slope = this.blobs[0]!.data
    const slopeDiff = this.blobs[0]!.diff
    const dim = b.countRange(2)
    const channels = b.shape[1]!
    const channelOf = (i: number) => (this.channelShared ? 0 : Math.floor(i / dim) % channels)
    for (let i = 0; i < b.count && this.paramPropagateDown(0); i++) {
      if (x[i]! <= 0) {
        const c = channelOf(i)
        slopeDiff[c] = slopeDiff[c]! + dy[i]! * x[i]!
      }
    }
    if (!propagateDown[0]) return
    const dx = b.diff
    for (let i = 0; i < b.count; i++) dx[i] = dy[i]! * (x[i]! > 0 ? 1 : slope[channelOf(i)]!)
  }
}
