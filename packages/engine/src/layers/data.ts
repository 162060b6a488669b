import type { LayerParameter } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer, type Phase } from "../core/layer.js"
import type { Rng } from "../core/rng.js"

/**
 * Where the Data layer's batches come from: Datum records read in key order (wrapping), transformed
 * per `transform_param`. The data package provides it; the engine only sees this interface.
 */
export interface DataBatchSource {
  /** Shape of one transformed item, (C, H, W). */
  readonly itemShape: ReadonlyArray<number>
  /** Writes the next batch: `data` holds batch·C·H·W values, `labels` (when given) batch values. */
  nextBatch(batchSize: number, data: Float32Array, labels: Float32Array | undefined): void
  close?(): void
}

/** Service `dataSourceFactory` in LayerContext.services: opens the source a Data layer names. */
export type DataSourceFactory = (param: LayerParameter, phase: Phase, rng: Rng) => DataBatchSource

export const DATA_SOURCE_FACTORY = "dataSourceFactory"

/** Data: Datum batches from a database; tops data (batch, C, H, W) and optionally label (batch). */
export class DataLayer extends Layer {
  private source: DataBatchSource | undefined
  private batchSize = 0

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
    const p = this.param.data_param ?? {}
    this.batchSize = p.batch_size ?? 0
    if (!(this.batchSize > 0)) throw this.setupError(`data_param.batch_size must be positive, got ${this.batchSize}`)
    const factory = this.ctx.services[DATA_SOURCE_FACTORY] as DataSourceFactory | undefined
    if (!factory) throw this.setupError(`no data source service ("${DATA_SOURCE_FACTORY}") to open "${p.source ?? ""}"`)
    this.source = factory(this.param, this.ctx.phase, this.ctx.rng)
    top[0]!.reshape([this.batchSize, ...this.source.itemShape])
    if (top.length > 1) top[1]!.reshape([this.batchSize])
  }
  reshape(): void {}
  forward(_bottom: Blob[], top: Blob[]): void {
    this.source!.nextBatch(this.batchSize, top[0]!.data, top.length > 1 ? top[1]!.data : undefined)
  }
  backward(): void {}
  close(): void {
    this.source?.close?.()
  }
}
