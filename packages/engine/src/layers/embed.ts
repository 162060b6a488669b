import { getOr } from "@deepspark/caffe"
import { Blob } from "../core/blob.js"
import { Layer, LayerSetupError } from "../core/layer.js"
import { fillBlob } from "../fillers/fill.js"

/**
 * Embed: a lookup table. Each bottom value is an integer index in [0, input_dim); the top (bottom's
 * shape + [num_output]) gets row index of the weights W (input_dim × num_output, the transpose of
 * InnerProduct's layout), plus the bias (num_output) with `bias_term` (default true). Gradients go to
 * W's rows and the bias (accumulated); none to the indices.
 */
export class EmbedLayer extends Layer {
  private numOutput = 0
  private inputDim = 0
  private biasTerm = true

  override exactNumBottomBlobs(): number {
    return 1
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  override allowForceBackward(_bottomIndex: number): boolean {
    return false
  }

  layerSetUp(_bottom: Blob[], _top: Blob[]): void {
    const p = this.param.embed_param
    this.numOutput = getOr(p, "EmbedParameter", "num_output")
    this.inputDim = getOr(p, "EmbedParameter", "input_dim")
    this.biasTerm = getOr(p, "EmbedParameter", "bias_term")
    if (!(this.numOutput > 0)) this.fail("embed_param.num_output must be positive")
    if (!(this.inputDim > 0)) this.fail("embed_param.input_dim must be positive")
    if (this.blobs.length > 0) return
    const weights = new Blob([this.inputDim, this.numOutput])
    fillBlob(weights, p?.weight_filler, this.ctx.rng)
    this.blobs = [weights]
    if (this.biasTerm) {
      const bias = new Blob([this.numOutput])
      fillBlob(bias, p?.bias_filler, this.ctx.rng)
      this.blobs.push(bias)
    }
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    top[0]!.reshape([...bottom[0]!.shape, this.numOutput])
  }

  private index(value: number, at: number): number {
    const i = Math.trunc(value)
    if (i !== value || i < 0 || i >= this.inputDim) this.fail(`bottom[0][${at}] = ${value} is not an integer index in [0, ${this.inputDim})`)
    return i
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data
    const y = top[0]!.data
    const w = this.blobs[0]!.data
    const N = this.numOutput
    const bias = this.biasTerm ? this.blobs[1]!.data : undefined
    for (let n = 0; n < bottom[0]!.count; n++) {
      const row = this.index(x[n]!, n) * N
      for (let j = 0; j < N; j++) y[n * N + j] = bias ? w[row + j]! + bias[j]! : w[row + j]!
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (propagateDown[0]) this.fail("can't backpropagate to EmbedLayer input")
    const x = bottom[0]!.data
    const dy = top[0]!.diff
    const dw = this.blobs[0]!.diff
    const N = this.numOutput
    const M = bottom[0]!.count
    for (let n = 0; n < M && this.paramPropagateDown(0); n++) {
      const row = this.index(x[n]!, n) * N
      for (let j = 0; j < N; j++) dw[row + j] = dw[row + j]! + dy[n * N + j]!
    }
    if (this.biasTerm && this.paramPropagateDown(1)) {
      const db = this.blobs[1]!.diff
      for (let j = 0; j < N; j++) {
        let s = 0
        for (let n = 0; n < M; n++) s += dy[n * N + j]!
        db[j] = db[j]! + s
      }
    }
  }

  private fail(detail: string): never {
    throw new LayerSetupError(this.name, this.type, detail)
  }
}
