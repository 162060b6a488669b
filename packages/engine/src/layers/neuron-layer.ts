import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * Caffe's NeuronLayer: one bottom, one top of the same shape, computed element by element, so the net
 * may run it in place (top === bottom). A subclass whose backward needs the ORIGINAL input sets
 * `needsInputInBackward`; when run in place its input is then copied aside before forward overwrites it
 * (as Caffe's PReLU keeps `bottom_memory_`), and `inputFor` hands that copy to backward.
 */
export abstract class NeuronLayer extends Layer {
  protected readonly needsInputInBackward: boolean = false
  private saved = new Float32Array(0)

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  reshape(bottom: Blob[], top: Blob[]): void {
    if (top[0] !== bottom[0]) top[0]!.reshapeLike(bottom[0]!)
  }

  /** Call first in forward: keeps a copy of the input when running in place and backward needs it. */
  protected keepInput(bottom: Blob[], top: Blob[]): void {
    if (!this.needsInputInBackward || top[0] !== bottom[0]) return
    const b = bottom[0]!
    if (this.saved.length < b.count) this.saved = new Float32Array(b.count)
    this.saved.set(b.data.subarray(0, b.count))
  }

  /** The forward input as backward must see it (the saved copy when in place). */
  protected inputFor(top: Blob[], bottom: Blob[]): Float32Array {
    return top[0] === bottom[0] && this.needsInputInBackward ? this.saved : bottom[0]!.data
  }
}
