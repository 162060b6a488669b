import { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Parameter: exposes a learnable blob of `parameter_param.shape` as its top (top shares the blob's data
 * and diff, so gradients flowing into the top land in the parameter). Caffe does not fill it: it starts
 * at zero and is normally loaded from a caffemodel.
 */
export class ParameterLayer extends Layer {
  override exactNumBottomBlobs(): number {
    return 0
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], top: Blob[]): void {
    if (this.blobs.length === 0) {
      const dims = this.param.parameter_param?.shape?.dim
      if (dims === undefined) throw new LayerSetupError(this.name, this.type, "parameter_param.shape is required")
      this.blobs = [new Blob(dims)]
    }
    top[0]!.reshape(this.blobs[0]!.shape)
  }

  reshape(_bottom: Blob[], top: Blob[]): void {
    this.share(top[0]!)
  }

  forward(_bottom: Blob[], top: Blob[]): void {
    this.share(top[0]!)
  }

  backward(_top: Blob[], _propagateDown: boolean[], _bottom: Blob[]): void {}

  private share(t: Blob): void {
    t.reshape(this.blobs[0]!.shape)
    t.shareData(this.blobs[0]!)
    t.shareDiff(this.blobs[0]!)
  }
}
