import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * MemoryData: batches supplied through the API (`reset` with N items, N a multiple of batch_size);
 * each forward copies the next batch and wraps around. Tops: data (batch, C, H, W) and label (batch).
 */
export class MemoryDataLayer extends Layer {
  private batchSize = 0
  private itemSize = 0
  private data: Float32Array | undefined
  private labels: Float32Array | undefined
  private n = 0
  private pos = 0

  override exactNumBottomBlobs(): number {
    return 0
  }
  override minTopBlobs(): number {
    return 1
  }
  override maxTopBlobs(): number {
    return 2
  }
  layerSetUp(_bottom: Blob[], top: Blob[]): void {
    const p = this.param.memory_data_param ?? {}
    this.batchSize = p.batch_size ?? 0
    const c = p.channels ?? 0
    const h = p.height ?? 0
    const w = p.width ?? 0
    if (!(this.batchSize > 0 && c > 0 && h > 0 && w > 0))
      throw this.setupError(`memory_data_param batch_size, channels, height and width must be positive, got ${this.batchSize}, ${c}, ${h}, ${w}`)
    this.itemSize = c * h * w
    top[0]!.reshape([this.batchSize, c, h, w])
    if (top.length > 1) top[1]!.reshape([this.batchSize])
  }
  reshape(): void {}

  get batch(): number {
    return this.batchSize
  }

  /** Supplies `n` items (data n·C·H·W floats, labels n floats); the arrays are used, not copied. */
  reset(data: Float32Array, labels: Float32Array, n: number): void {
    if (n <= 0 || n % this.batchSize !== 0)
      throw this.setupError(`reset: n (${n}) must be a positive multiple of batch_size (${this.batchSize})`)
    if (data.length < n * this.itemSize) throw this.setupError(`reset: data holds ${data.length} values, need ${n * this.itemSize}`)
    if (labels.length < n) throw this.setupError(`reset: labels hold ${labels.length} values, need ${n}`)
    this.data = data
    this.labels = labels
    this.n = n
    this.pos = 0
  }

  forward(_bottom: Blob[], top: Blob[]): void {
    if (!this.data || !this.labels) throw this.setupError("MemoryDataLayer needs reset() to be called before forward")
    const b = this.batchSize
    top[0]!.data.set(this.data.subarray(this.pos * this.itemSize, (this.pos + b) * this.itemSize))
    if (top.length > 1) top[1]!.data.set(this.labels.subarray(this.pos, this.pos + b))
    this.pos = (this.pos + b) % this.n
  }
  backward(): void {}
}
