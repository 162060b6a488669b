/**
 * The record store interface shared by the LMDB and LevelDB backends: Caffe's layout (one unnamed
 * key/value database, keys are raw bytes, values are serialized Datum bytes).
 *
 * Reading is synchronous once the database is open (the engine's Data layer reads on its own schedule),
 * records come in key order, and a cursor wraps to the first record after the last, as Caffe's
 * DataReader does. Nothing loads the whole database: readers page through it.
 */

export type Backend = "lmdb" | "leveldb"

/** Caffe's DataParameter.backend default is LEVELDB. */
export const DEFAULT_BACKEND: Backend = "leveldb"

/** Maps Caffe's enum name ("LMDB" / "LEVELDB") or a CLI spelling to a backend. */
export const parseBackend = (name: string | undefined): Backend => {
  if (name === undefined) return DEFAULT_BACKEND
  const n = name.toLowerCase()
  if (n === "lmdb" || n === "leveldb") return n
  throw new Error(`unknown database backend "${name}" (expected LMDB or LEVELDB)`)
}

export interface DbRecord {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

export interface DbCursor {
  /** The record under the cursor, then advances; after the last record it wraps to the first. */
  next(): DbRecord
  /** Places the cursor on the first record whose key is ≥ key (wrapping to the first if none). */
  seek(key: Uint8Array | string): void
  /** Places the cursor on the first record. */
  rewind(): void
  /** How many times the cursor has wrapped past the end. */
  readonly wraps: number
}

export interface DatumDb {
  readonly path: string
  readonly backend: Backend
  /** Number of records. */
  count(): number
  /** A new cursor on the first record (or the first key ≥ `start`). Throws on an empty database. */
  cursor(start?: Uint8Array | string): DbCursor
  /** Key-ordered iteration of the records in [start, end) without wrapping. */
  range(options?: { start?: Uint8Array | string; end?: Uint8Array | string }): IterableIterator<DbRecord>
  /** Keys in order, without reading values. */
  keys(): IterableIterator<Uint8Array>
  get(key: Uint8Array | string): Uint8Array | undefined
  close(): Promise<void>
}

export interface DatumDbWriter {
  readonly path: string
  readonly backend: Backend
  /** Adds a record; keys must be new. Records are committed in batches. */
  put(key: Uint8Array | string, value: Uint8Array): Promise<void>
  /** Commits what is pending and closes; the database is complete only after this. */
  close(): Promise<void>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const keyBytes = (key: Uint8Array | string): Uint8Array =>
  typeof key === "string" ? encoder.encode(key) : key

/** A key as text for messages (Caffe's keys are ASCII). */
export const keyText = (key: Uint8Array): string => decoder.decode(key)
