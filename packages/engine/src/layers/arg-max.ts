import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"

/**
 * ArgMax: the indices of the `top_k` (default 1) largest values, per item over count(1) (top shape
 * (N, 1 or 2, top_k), at least 3 axes; with `out_max_val` channel 1 holds the values), or along `axis`
 * when given (that axis becomes top_k; `out_max_val` then outputs the values instead of the indices).
 * Ties order as Caffe's std::greater on (value, index) pairs: the larger index first. No backward.
 */
export class ArgMaxLayer extends Layer {
  private outMaxVal = false
  private topK = 1
  private axis: number | undefined

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }

  layerSetUp(bottom: Blob[], _top: Blob[]): void {
    const p = this.param.argmax_param
    const b = bottom[0]!
    this.outMaxVal = getOr(p, "ArgMaxParameter", "out_max_val")
    this.topK = getOr(p, "ArgMaxParameter", "top_k")
    if (this.topK < 1) this.fail("top_k must not be less than 1")
    if (p?.axis !== undefined) {
      try {
        this.axis = b.canonicalAxis(p.axis)
      } catch (e) {
        this.fail((e as Error).message)
      }
      if (this.topK > b.shape[this.axis]!) this.fail(`top_k (${this.topK}) must be less than or equal to the dimension of the axis (${b.shape[this.axis]})`)
    } else if (this.topK > b.countRange(1)) {
      this.fail(`top_k (${this.topK}) must be less than or equal to the dimension of the flattened bottom blob per instance (${b.countRange(1)})`)
    }
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    let shape: number[]
    if (this.axis !== undefined) {
      shape = [...b.shape]
      shape[this.axis] = this.topK
    } else {
      shape = new Array<number>(Math.max(3, b.numAxes)).fill(1)
      shape[0] = b.shape[0]!
      shape[2] = this.topK
      if (this.outMaxVal) shape[1] = 2
    }
    top[0]!.reshape(shape)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    const x = b.data
    const y = top[0]!.data
    const hasAxis = this.axis !== undefined
    const dim = hasAxis ? b.shape[this.axis!]! : b.countRange(1)
    const axisDist = hasAxis ? b.countRange(this.axis!) / dim : 1
    const num = b.count / dim
    const K = this.topK
    const pairs: Array<[number, number]> = new Array(dim)
    for (let i = 0; i < num; i++) {
      const base = Math.floor(i / axisDist) * dim
      const rest = i % axisDist
      for (let j = 0; j < dim; j++) pairs[j] = [x[(base + j) * axisDist + rest]!, j]
      pairs.sort((a, c) => c[0] - a[0] || c[1] - a[1])
      for (let j = 0; j < K; j++) {
        const [value, index] = pairs[j]!
        const at = (Math.floor(i / axisDist) * K + j) * axisDist + rest
        if (this.outMaxVal && hasAxis) y[at] = value
        else if (this.outMaxVal) {
          y[2 * i * K + j] = index
          y[2 * i * K + K + j] = value
        } else y[at] = index
      }
    }
  }

  backward(_top: Blob[], propagateDown: boolean[], _bottom: Blob[]): void {
    if (propagateDown[0]) this.fail("ArgMax has no backward")
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
