/**
 * The Data layer's input for one worker of the distributed runtime: Caffe's DataLayer restricted to a
 * partition of the database (range = contiguous key blocks like Spark's range partitioning, partition k
 * holding records [⌊k·n/N⌋, ⌊(k+1)·n/N⌋); hash = records whose key's hashKey is k mod N), read in key
 * order and wrapping at the partition's end, optionally shuffled per epoch with a seed.
 *
 * `cursor()` is a JSON string; a source opened with it yields exactly the batches the original would
 * have yielded next. It holds the record position (epoch, position, seed, shuffle — the dataset cursor)
 * and the state of the transformer's generator (crop offsets and mirror coins are drawn when a batch is
 * delivered, never during read-ahead, so the state at `cursor()` time is the one the next batch uses).
 *
 * Composition only: the database as a Dataset, Dataset.partition, datasetBatchSource (its resumable
 * recordReader and the DataTransformer), verifyPartition.
 */
import path from "node:path"
import type { Effect } from "effect"
import type { BatchSource, BatchSourceOptions } from "./batch-source.js"
import { datasetBatchSource } from "./batch-source.js"
import type { CursorState } from "./dataset/cursor.js"
import type { PartitionMode } from "./dataset/dataset.js"
import { Dataset } from "./dataset/dataset.js"
import type { PartitionManifest } from "./dataset/verify.js"
import { partitionManifest, verifyPartition } from "./dataset/verify.js"
import type { Datum } from "./datum.js"
import { parseBackend } from "./db/datum-db.js"
import { PartitionError, TransformError } from "./errors.js"
import { SeededRng } from "./rng.js"

export interface PartitionSpec {
  readonly index: number
  readonly count: number
  readonly mode: PartitionMode
  /**
   * Elastic runs: read records [from, to) of the database's key order instead of partition index of
   * count (the center assigns such ranges when workers join and leave). Cursors speak of positions
   * within the range.
   */
  readonly records?: { readonly from: number; readonly to: number }
}

export interface PartitionBatchSourceOptions extends Omit<BatchSourceOptions, "startKey"> {
  readonly partition: PartitionSpec
  /** A `cursor()` saved earlier: resume exactly there (its seed and shuffle win over the options). */
  readonly cursor?: string
  /** Shuffle the partition's records each epoch (default false: key order, as Caffe). */
  readonly shuffle?: boolean
  /** Seed of the per-epoch shuffles (default 0). */
  readonly seed?: number
  /** Who reads the partition, for messages (default: the layer). */
  readonly worker?: string
  /**
   * The partition was staged into an LMDB of its own (a worker's local copy, see
   * dataset/stage-remote.ts): read that database whole, in key order, instead of partitioning
   * `dataParam.source`. Record i of the staged copy is record i of the partition, so cursors still speak
   * of `partition` and its positions: a cursor saved on the staged copy resumes a direct read of the
   * shared database, and vice versa.
   */
  readonly staged?: string
}

/** What `cursor()` serialises. */
export interface PartitionCursor extends CursorState {
  readonly partition: PartitionSpec
  /** Records in the partition when the cursor was taken (a different database fails the restore). */
  readonly size: number
  /** State of the transformer's generator (crop / mirror draws). */
  readonly transformRng: number
}

export interface PartitionBatchSource extends BatchSource<CursorState> {
  /** Where the next batch starts, as JSON (PartitionCursor). */
  cursor(): string
  readonly partition: PartitionSpec
  /** The partition's records (count, keys, values), e.g. for verifyPartitionSource. */
  readonly records: Dataset<Datum>
  /** Records in the whole database (an elastic center plans ranges of it). */
  readonly databaseSize: number
}

const checkSpec = (layer: string, spec: PartitionSpec): void => {
  const { index, count, mode } = spec
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count || (mode !== "range" && mode !== "hash")) {
    throw new TransformError({
      source: layer,
      message: `layer "${layer}": partition ${JSON.stringify(spec)} (expected integers 0 ≤ index < count and mode "range" or "hash")`
    })
  }
}

const parseCursor = (layer: string, text: string): PartitionCursor => {
  const fail = (why: string): never => {
    throw new TransformError({ source: layer, message: `layer "${layer}": cannot resume from cursor ${text}: ${why}` })
  }
  let c: Partial<PartitionCursor>
  try {
    c = JSON.parse(text) as Partial<PartitionCursor>
  } catch (e) {
    return fail(`not JSON (${(e as Error).message})`)
  }
  const isNat = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0
  if (typeof c !== "object" || c === null) fail("expected an object")
  if (!isNat(c.epoch) || !isNat(c.position) || !isNat(c.size)) fail("epoch, position and size must be integers ≥ 0")
  if (!isNat(c.seed) || !isNat(c.transformRng) || typeof c.shuffle !== "boolean") fail("seed, transformRng (uint32) and shuffle (boolean) are required")
  if (typeof c.partition !== "object" || c.partition === null) fail("partition {index, count, mode} is required")
  return c as PartitionCursor
}

/** Opens the partition of the database data_param names (relative to baseDir; LEVELDB when absent). */
export const openPartitionBatchSource = async (options: PartitionBatchSourceOptions): Promise<PartitionBatchSource> => {
  const layer = options.layer ?? "Data"
  const spec = options.partition
  checkSpec(layer, spec)
  const saved = options.cursor !== undefined ? parseCursor(layer, options.cursor) : undefined
  if (saved !== undefined) {
    const p = saved.partition
    if (p.index !== spec.index || p.count !== spec.count || p.mode !== spec.mode || JSON.stringify(p.records) !== JSON.stringify(spec.records)) {
      throw new TransformError({
        source: layer,
        message: `layer "${layer}": cursor is for partition ${p.index} of ${p.count} (${p.mode}), this source reads partition ${spec.index} of ${spec.count} (${spec.mode})`
      })
    }
  }
  const { dataParam } = options
  if (dataParam.source === undefined) throw new TransformError({ source: layer, message: `layer "${layer}": data_param.source is required` })
  const sourcePath = path.resolve(options.baseDir ?? ".", dataParam.source)
  const staged = options.staged !== undefined ? path.resolve(options.baseDir ?? ".", options.staged) : undefined
  // A staged copy is always an LMDB (whatever the source's backend), holding only the partition.
  const whole = staged !== undefined ? await Dataset.lmdb(staged) : await Dataset.database(sourcePath, parseBackend(dataParam.backend))
  try {
    if (spec.records !== undefined && staged !== undefined)
      throw new TransformError({ source: layer, message: `layer "${layer}": an assigned record range cannot be read from a staged partition` })
    if (spec.records !== undefined && !(spec.records.from >= 0 && spec.records.from < spec.records.to && spec.records.to <= whole.size))
      throw new TransformError({
        source: layer,
        message: `layer "${layer}": assigned records [${spec.records.from}, ${spec.records.to}) are not within ${sourcePath}'s ${whole.size} records`
      })
    const records =
      staged !== undefined ? whole : spec.records !== undefined ? whole.slice(spec.records.from, spec.records.to) : whole.partition(spec.count, { mode: spec.mode })[spec.index]!
    const name =
      spec.records !== undefined
        ? `records [${spec.records.from}, ${spec.records.to}) of ${sourcePath}`
        : `${spec.mode} partition ${spec.index} of ${spec.count} of ${sourcePath}${staged !== undefined ? ` (staged at ${staged})` : ""}`
    if (records.size === 0) {
      const worker = options.worker ?? `layer "${layer}"`
      throw new PartitionError({ worker, partition: name, message: `${worker}: ${name} has no records (the database holds ${whole.size})` })
    }
    if (saved !== undefined && saved.size !== records.size) {
      throw new TransformError({
        source: layer,
        message: `layer "${layer}": cursor was taken on ${saved.size} records, ${name} holds ${records.size} (the database changed)`
      })
    }
    // The transformer draws from a generator whose one-word state goes into the cursor.
    const rng = new SeededRng(saved?.transformRng ?? options.rng.nextInt(4294967296))
    const inner = datasetBatchSource(records, {
      batchSize: dataParam.batch_size ?? 0,
      ...(options.transformParam !== undefined ? { transformParam: options.transformParam } : {}),
      phase: options.phase,
      rng,
      ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
      ...(options.numClasses !== undefined ? { numClasses: options.numClasses } : {}),
      prefetch: dataParam.prefetch ?? 4,
      layer,
      shuffle: options.shuffle ?? false,
      seed: options.seed ?? 0,
      ...(saved !== undefined ? { cursor: { epoch: saved.epoch, position: saved.position, seed: saved.seed, shuffle: saved.shuffle } } : {})
    })
    return {
      shape: inner.shape,
      source: name,
      partition: spec,
      records,
      databaseSize: whole.size,
      next: (data, label) => inner.next(data, label),
      position: () => inner.position(),
      expectLabels: (rule) => inner.expectLabels(rule),
      cursor() {
        const c: PartitionCursor = { ...inner.position(), partition: spec, size: records.size, transformRng: rng.seedState }
        return JSON.stringify(c)
      },
      async close() {
        await inner.close()
        await whole.close()
      }
    }
  } catch (e) {
    await whole.close()
    throw e
  }
}

/** Proves the worker can read its partition (count, first/last key and records; matching `expected`). */
export const verifyPartitionSource = (
  source: PartitionBatchSource,
  worker: string,
  expected?: PartitionManifest
): Effect.Effect<PartitionManifest, PartitionError> => verifyPartition(worker, source.records, expected)

/** The manifest a driver hands the worker that will read this partition. */
export const partitionSourceManifest = (source: PartitionBatchSource): PartitionManifest => partitionManifest(source.records)
