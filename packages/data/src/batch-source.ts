/**
 * The engine's Data layer input. `openBatchSource` is Caffe's DataLayer over a record database: records
 * in key order, wrapping at the end, each transformed by DataTransformer into the caller's batch
 * buffers, labels into the label top. `datasetBatchSource` feeds the same way from a Dataset (a worker's
 * partition, optionally shuffled per epoch) and reports a resumable cursor.
 *
 * The API is synchronous (the engine's forward pass is). Read-ahead keeps up to `prefetch` batches of
 * raw records (DataParameter.prefetch, default 4), refilled on a setImmediate after each batch so that
 * reading overlaps whatever the engine does between calls; decoding and transforming happen in `next`.
 */
import path from "node:path"
import { MemoryBudget, type DataParameter, type TransformationParameter } from "@deepspark/caffe"
import type { DbCursor, DbRecord } from "./db/datum-db.js"
import { keyText, parseBackend } from "./db/datum-db.js"
import { openDatumDb } from "./db/open.js"
import type { Datum } from "./datum.js"
import { decodeRecord } from "./datum.js"
import type { RawDatumScan } from "./datum-view.js"
import { rawDatumScan, scanRawDatum } from "./datum-view.js"
import type { RecordSource } from "./dataset/dataset.js"
import type { CursorState, ReaderOptions } from "./dataset/cursor.js"
import { recordReader } from "./dataset/cursor.js"
import { DatumDbError, RecordError, TransformError } from "./errors.js"
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
  /** Resume at the first record whose key is ≥ this one (a `position()` saved earlier). */
  readonly startKey?: string
}

/**
 * Which labels the net can take: integers in [0, numClasses), or one of `ignoreLabels` (a loss's or
 * accuracy's ignore_label); `by` names the layer that fixes the classes, for messages.
 */
export interface LabelRule {
  readonly numClasses: number
  readonly ignoreLabels?: ReadonlyArray<number>
  readonly by?: string
}

export interface BatchSource<P = string> {
  /** Top shapes: data [batch, C, H', W'] from the first record; label [batch]. */
  readonly shape: { readonly data: ReadonlyArray<number>; readonly label: ReadonlyArray<number> }
  readonly source: string
  /** Fills one batch (dataOut holds batch·C·H'·W' values, labelOut batch values or null). */
  next(dataOut: Float32Array, labelOut: Float32Array | null): void
  /** Where the next batch starts (a key for databases, a dataset cursor for datasets). */
  position(): P
  /**
   * From now on a record whose label breaks the rule fails, naming the source, the key and the classes
   * (the net's classes are known only once its shapes are, after the sources are open).
   */
  expectLabels(rule: LabelRule): void
  close(): Promise<void>
}

/**
 * Where the assembler's records come from. A record R stays as the feed produced it (for databases the
 * cursor's key/value views) until the batch is delivered: its key text and Datum are made only when the
 * general path or a message needs them.
 */
interface Feed<P, R> {
  readonly source: string
  /** The position before the next `read`. */
  mark(): P
  read(): R
  key(record: R): string
  datum(record: R): Datum
  /** Fast path: fills `scan` for a raw uint8 record and returns the array its data lies in, else null. */
  raw(record: R, scan: RawDatumScan): Uint8Array | null
}

interface AssembleOptions {
  readonly batchSize: number
  readonly prefetch: number
  readonly numClasses: number | undefined
  readonly layer: string
}

const assemble = <P, R>(feed: Feed<P, R>, transformer: DataTransformer, options: AssembleOptions, onClose: () => Promise<void>): BatchSource<P> => {
  const { batchSize, prefetch, layer } = options
  let labels: LabelRule | null = options.numClasses !== undefined ? { numClasses: options.numClasses } : null
  const badLabel = (label: number): boolean =>
    labels !== null && !(label >= 0 && label < labels.numClasses) && !(labels.ignoreLabels ?? []).includes(label)
  const source = feed.source
  // The first record fixes the top shapes (DataLayerSetUp); it is delivered again as the first of batch 1.
  const start = feed.mark()
  const first = feed.read()
  const firstRaw = transformer.raw(feed.datum(first), { source, key: feed.key(first) })
  const [C, H, W] = transformer.outputShape(firstRaw)
  const firstBatch: Array<R> = [first]
  const itemSize = C * H * W
  // Before any batch-sized buffer: a batch the machine cannot hold is refused, naming the field that
  // sizes it (the layer's top: values and gradients, float32; the transformer's per-record offsets).
  new MemoryBudget().reserve({
    layer,
    type: "Data",
    blob: `a batch of ${batchSize} records of ${C}×${H}×${W}`,
    bytes: batchSize * (itemSize * 8 + 12),
    field: `data_param.batch_size: ${batchSize}`
  })
  // Batches of raw uint8 records of the first record's input shape go through one SIMD conversion
  // (crop windows and mirror included; see u8-affine.ts).
  const inC = firstRaw.channels
  const inH = firstRaw.height
  const inW = firstRaw.width
  const fast = transformer.uint8Batch(inC, inH, inW, batchSize)
  const scan = rawDatumScan()
  const moves = transformer.cropSize > 0 || transformer.mirror
  const queue: Array<{ mark: P; records: Array<R> }> = []
  const readBatch = (): { mark: P; records: Array<R> } => {
    const mark = queue.length === 0 && firstBatch.length > 0 ? start : feed.mark()
    const records = firstBatch.splice(0)
    while (records.length < batchSize) records.push(feed.read())
    return { mark, records }
  }
  const labelError = (rec: R, label: number): RecordError => {
    const key = feed.key(rec)
    const rule = labels!
    const ignored = (rule.ignoreLabels ?? []).map((l) => ` or ${l} (ignore_label)`).join("")
    const by = rule.by !== undefined ? ` (${rule.by} has ${rule.numClasses} classes)` : ""
    return new RecordError({ source, key, message: `${source}: record "${key}" has label ${label}, expected a class in [0, ${rule.numClasses})${ignored}${by}` })
  }
  /**
   * All records raw uint8 of the first record's input shape: staged and converted at once; false
   * otherwise. The random draws (mirror, crop offsets) are made only once the whole batch qualifies, item
   * by item in the general path's order, so falling back never changes the random sequence.
   */
  const fastBatch = (batch: Array<R>, dataOut: Float32Array, labelOut: Float32Array | null): boolean => {
    if (fast === null) return false
    for (let i = 0; i < batchSize; i++) {
      const rec = batch[i]!
      const bytes = feed.raw(rec, scan)
      if (bytes === null || scan.channels !== inC || scan.height !== inH || scan.width !== inW || scan.dataLength !== fast.inSize) return false
      if (labelOut !== null) {
        const label = scan.label
        if (badLabel(label)) throw labelError(rec, label)
        labelOut[i] = label
      }
      fast.put(i, bytes, scan.dataStart)
    }
    if (moves) for (let i = 0; i < batchSize; i++) transformer.placeItem(fast, i)
    fast.run(batchSize, dataOut)
    return true
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
      const batch = (queue.shift() ?? readBatch()).records
      if (!fastBatch(batch, dataOut, labelOut)) {
        for (let i = 0; i < batchSize; i++) {
          const rec = batch[i]!
          const key = feed.key(rec)
          const origin = { source, key }
          const datum = feed.datum(rec)
          const raw = transformer.raw(datum, origin)
          const shape = transformer.outputShape(raw)
          if (shape[0] !== C || shape[1] !== H || shape[2] !== W) {
            throw new RecordError({
              ...origin,
              message: `${source}: record "${key}" transforms to ${shape.join("×")}, expected ${C}×${H}×${W} like the first record`
            })
          }
          transformer.transformRaw(raw, dataOut, i * itemSize, origin)
          if (labelOut !== null) {
            const label = datum.label ?? 0
            if (badLabel(label)) throw labelError(rec, label)
            labelOut[i] = label
          }
        }
      }
      if (prefetch > 0 && pending === null) {
        pending = setImmediate(refill)
        pending.unref()
      }
    },
    position: () => (queue.length > 0 ? queue[0]!.mark : firstBatch.length > 0 ? start : feed.mark()),
    expectLabels(rule) {
      labels = rule
    },
    async close() {
      if (pending !== null) clearImmediate(pending)
      await transformer.close()
      await onClose()
    }
  }
}

const checkBatchSize = (layer: string, batchSize: number | undefined): number => {
  if (batchSize === undefined || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new TransformError({ source: layer, message: `layer "${layer}": batch_size must be ≥ 1 (got ${batchSize})` })
  }
  return batchSize
}

/** Caffe's DataLayer: a database named by data_param (backend LEVELDB when absent). */
export const openBatchSource = async (options: BatchSourceOptions): Promise<BatchSource<string>> => {
  const { dataParam, phase, rng } = options
  const layer = options.layer ?? "Data"
  if (dataParam.source === undefined) {
    throw new TransformError({ source: layer, message: `layer "${layer}": data_param.source is required` })
  }
  const batchSize = checkBatchSize(layer, dataParam.batch_size)
  const source = path.resolve(options.baseDir ?? ".", dataParam.source)
  const backend = parseBackend(dataParam.backend)
  let db: Awaited<ReturnType<typeof openDatumDb>>
  try {
    db = await openDatumDb(source, backend)
  } catch (e) {
    // A missing or unreadable database: say which layer asked for it, and with which backend.
    if (e instanceof DatumDbError) {
      const which = `backend ${backend.toUpperCase()}${dataParam.backend === undefined ? ", Caffe's default when data_param.backend is absent" : ""}`
      throw new DatumDbError({ path: e.path, message: `layer "${layer}" data_param.source (${which}): ${e.message}` })
    }
    throw e
  }
  try {
    const transformer = new DataTransformer(options.transformParam ?? {}, phase, rng, {
      ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
      source: `layer "${layer}" transform_param`
    })
    const cursor: DbCursor = db.cursor(options.startKey)
    // Older Caffe DataReader: skip Rand(rand_skip) records at the start.
    if (options.startKey === undefined && dataParam.rand_skip) {
      const skip = rng.nextInt(dataParam.rand_skip)
      for (let i = 0; i < skip; i++) cursor.next()
    }
    // mark() looks one record ahead and read() hands that record out (no seek back per batch).
    let ahead: DbRecord | null = null
    const feed: Feed<string, DbRecord> = {
      source,
      mark() {
        ahead ??= cursor.next()
        return keyText(ahead.key)
      },
      read() {
        const rec = ahead ?? cursor.next()
        ahead = null
        return rec
      },
      key: (rec) => keyText(rec.key),
      datum: (rec) => decodeRecord(source, rec.key, rec.value),
      raw: (rec, scan) => (scanRawDatum(rec.value, scan) ? rec.value : null)
    }
    return assemble(feed, transformer, { batchSize, prefetch: dataParam.prefetch ?? 4, numClasses: options.numClasses, layer }, () => db.close())
  } catch (e) {
    await db.close()
    throw e
  }
}

export interface DatasetBatchSourceOptions extends ReaderOptions {
  readonly batchSize: number
  readonly transformParam?: TransformationParameter
  readonly phase: Phase
  readonly rng: Rng
  readonly baseDir?: string
  readonly numClasses?: number
  readonly prefetch?: number
  readonly layer?: string
}

/**
 * Batches from a dataset (a worker's partition), epoch after epoch, shuffled per epoch when asked.
 * `position()` is the cursor to save; passing it back as `cursor` resumes with the same next batch
 * (the transformer's random draws come from `rng`, which the caller seeds).
 */
export const datasetBatchSource = (dataset: RecordSource<Datum>, options: DatasetBatchSourceOptions): BatchSource<CursorState> => {
  const layer = options.layer ?? "Data"
  const batchSize = checkBatchSize(layer, options.batchSize)
  const transformer = new DataTransformer(options.transformParam ?? {}, options.phase, options.rng, {
    ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
    source: `layer "${layer}" transform_param`
  })
  const reader = recordReader(dataset, options)
  const feed: Feed<CursorState, { readonly key: string; readonly datum: Datum }> = {
    source: dataset.name,
    mark: () => reader.cursor(),
    read() {
      const key = reader.peekKey()
      return { key, datum: reader.next() }
    },
    key: (rec) => rec.key,
    datum: (rec) => rec.datum,
    raw(rec, scan) {
      const d = rec.datum
      if (d.encoded || d.data === undefined || d.data.length === 0 || d.float_data !== undefined) return null
      scan.channels = d.channels ?? 0
      scan.height = d.height ?? 0
      scan.width = d.width ?? 0
      scan.label = d.label ?? 0
      scan.dataStart = 0
      scan.dataLength = d.data.length
      return d.data
    }
  }
  return assemble(feed, transformer, { batchSize, prefetch: options.prefetch ?? 4, numClasses: options.numClasses, layer }, async () => {})
}

