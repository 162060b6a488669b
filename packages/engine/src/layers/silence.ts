import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** Silence: consumes its bottoms (so they are not net outputs); no tops; backward zeroes their diffs. */
export class SilenceLayer extends Layer {
  override minBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 0
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}
  reshape(_bottom: Blob[], _top: Blob[]): void {}
  forward(_bottom: Blob[], _top: Blob[]): void {}

  backward(_top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    bottom.forEach((b, i) => {
      if (propagateDown[i]) b.zeroDiff()
    })
  }
}
