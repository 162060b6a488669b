/**
 * The engine's Data layer input: Caffe's DataLayer over a record database. Records come in key order
 * and wrap at the end (DataReader / db cursor), each is transformed by DataTransformer into the
 * caller's batch buffers, labels go to the label top. The API is synchronous (the engine's forward pass
 * is); read-ahead keeps up to `prefetch` batches of raw records (DataParameter.prefetch, default 4),
 * refilled on a setImmediate after each batch so reading overlaps whatever the engine does between calls.
 */
import path from "node:path"
import type { DataParameter, TransformationParameter } from "@deepspark/caffe"
import type { DatumDb, DbCursor, DbRecord } from "./db/datum-db.js"
import { keyText, parseBackend } from "./db/datum-db.js"
import { openDatumDb } from "./db/open.js"
import { decodeRecord } from "./datum.js"
import { RecordError, TransformError } from "./errors.js"
import type { Rng } from "./rng.js"
import type { Phase } from "./transform/data-transformer.js"
import { DataTransformer } from "./transform/data-transformer.js"

export interface BatchSourceOptions {
  readonly dataParam: DataParameter
  readonly transformParam?: TransformationParameter
  readonly phase: Phase
  readonly rng: Rng
  /** Folder that relative `source` / `mean_file` paths are resolved against (Caffe: the working dir). */
  readonly baseDir?: string
  /** When given, a label outside [0, numClasses) fails, naming the record. */
  readonly numClasses?: number
  /** Layer name for messages. */
  readonly layer?: string
}

export interface BatchSource {
  /** Top shapes: data [batch, C, H', W'] from the first record; label [batch]. */
  readonly shape: { readonly data: ReadonlyArray<number>; readonly label: ReadonlyArray<number> }
  readonly source: string
  /** Fills one batch (dataOut holds batch·C·H'·W' values, labelOut batch values or null). */
  next(dataOut: Float32Array, labelOut: Float32Array | null): void
  close(): Promise<void>
}

export const openBatchSource = async (options: BatchSourceOptions): Promise<BatchSource> => {
  const { dataParam, phase, rng } = options
  const layer = options.layer ?? "Data"
  if (dataParam.source === undefined) {
    throw new TransformError({ source: layer, message: `layer "${layer}": data_param.source is required` })
  }
  const batchSize = dataParam.batch_size ?? 0
  if (batchSize < 1) {
    throw new TransformError({ source: layer, message: `layer "${layer}": data_param.batch_size must be ≥ 1 (got ${batchSize})` })
  }
  const source = path.resolve(options.baseDir ?? ".", dataParam.source)
  const db: DatumDb = await openDatumDb(source, parseBackend(dataParam.backend))
  try {
    const transformer = new DataTransformer(options.transformParam ?? {}, phase, rng, {
      ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
      source: `layer "${layer}" transform_param`
    })
    const cursor: DbCursor = db.cursor()
    // Older Caffe DataReader: skip Rand(rand_skip) records at the start.
    const skip = dataParam.rand_skip ? rng.nextInt(dataParam.rand_skip) : 0
    for (let i = 0; i < skip; i++) cursor.next()
    // The first record fixes the top shapes (DataLayerSetUp); it is read again as the first of batch 1.
    const first = cursor.next()
    cursor.seek(first.key)
    const firstDatum = decodeRecord(source, first.key, first.value)
    const raw0 = transformer.raw(firstDatum, { source, key: keyText(first.key) })
    const [C, H, W] = transformer.outputShape(raw0)
    const itemSize = C * H * W
    const prefetch = dataParam.prefetch ?? 4
    const queue: Array<Array<DbRecord>> = []
    const readBatch = (): Array<DbRecord> => {
      const batch: Array<DbRecord> = new Array(batchSize)
      for (let i = 0; i < batchSize; i++) batch[i] = cursor.next()
      return batch
    }
    let pending: NodeJS.Immediate | null = null
    const refill = () => {
      pending = null
      while (queue.length < prefetch) queue.push(readBatch())
    }
    return {
      shape: { data: [batchSize, C, H, W], label: [batchSize] },
      source,
      next(dataOut, labelOut) {
        if (dataOut.length < batchSize * itemSize) {
          throw new TransformError({
            source: layer,
            message: `layer "${layer}": data buffer holds ${dataOut.length} values, a batch needs ${batchSize * itemSize}`
          })
        }
        const batch = queue.shift() ?? readBatch()
        for (let i = 0; i < batchSize; i++) {
          const rec = batch[i]!
          const key = keyText(rec.key)
          const datum = decodeRecord(source, rec.key, rec.value)
          const raw = transformer.raw(datum, { source, key })
          const shape = transformer.outputShape(raw)
          if (shape[0] !== C || shape[1] !== H || shape[2] !== W) {
            throw new RecordError({
              source,
              key,
              message: `${source}: record "${key}" transforms to ${shape.join("×")}, expected ${C}×${H}×${W} like the first record`
            })
          }
          transformer.transformRaw(raw, dataOut, i * itemSize, { source, key })
          if (labelOut !== null) {
            const label = datum.label ?? 0
            if (options.numClasses !== undefined && !(label >= 0 && label < options.numClasses)) {
              throw new RecordError({
                source,
                key,
                message: `${source}: record "${key}" has label ${label}, expected a class in [0, ${options.numClasses})`
              })
            }
            labelOut[i] = label
          }
        }
        if (prefetch > 0 && pending === null) {
          pending = setImmediate(refill)
          pending.unref()
        }
      },
      async close() {
        if (pending !== null) clearImmediate(pending)
        await transformer.close()
        await db.close()
      }
    }
  } catch (e) {
    await db.close()
    throw e
  }
}
