import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * Tile: repeats bottom[0] `tiles` times along `axis` (default 1): each block count(axis…) is copied
 * `tiles` times in a row. Backward sums the copies.
 */
export class TileLayer extends Layer {
  private tiles = 1
  private outer = 1
  private inner = 1

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {}

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const p = this.param.tile_param
    let axis: number
    try {
      axis = b.canonicalAxis(getOr(p, "TileParameter", "axis"))
    } catch (e) {
      throw new LayerSetupError(this.name, this.type, (e as Error).message)
    }
    if (p?.tiles === undefined) throw new LayerSetupError(this.name, this.type, "tile_param.tiles (number of tiles) must be specified")
    if (!(p.tiles > 0)) throw new LayerSetupError(this.name, this.type, `tile_param.tiles must be positive, got ${p.tiles}`)
    this.tiles = p.tiles
    const shape = [...b.shape]
    shape[axis] = b.shape[axis]! * this.tiles
    top[0]!.reshape(shape)
    this.outer = b.countRange(0, axis)
    this.inner = b.countRange(axis)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    const { outer, inner, tiles } = this
    for (let i = 0; i < outer; i++) {
      const src = x.subarray(i * inner, (i + 1) * inner)
      for (let t = 0; t < tiles; t++) y.set(src, (i * tiles + t) * inner)
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    const { outer, inner, tiles } = this
    for (let i = 0; i < outer; i++)
      for (let k = 0; k < inner; k++) {
        let s = 0
        for (let t = 0; t < tiles; t++) s += dy[(i * tiles + t) * inner + k]!
        dx[i * inner + k] = s
      }
  }
}
