/**
 * Caffe's LevelDB backend through `classic-level` (LevelDB 1.x with snappy, the format Caffe's leveldb
 * writes). LevelDB's iterators are asynchronous in Node, while the engine reads synchronously: opening
 * therefore scans the keys once (keys only, packed into one buffer — values are never held), and
 * records are then read with synchronous point lookups in key order.
 */
import { ClassicLevel } from "classic-level"
import { existsSync, mkdirSync } from "node:fs"
import { DatumDbError } from "../errors.js"
import type { DatumDb, DatumDbWriter, DbCursor, DbRecord } from "./datum-db.js"
import { keyBytes } from "./datum-db.js"
import { compareKeys } from "./lmdb-format.js"

/** classic-level hands out Buffers; records are plain Uint8Arrays everywhere in deepspark. */
const plain = (v: Uint8Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)

type Db = ClassicLevel<Uint8Array, Uint8Array>

const BUFFER = { keyEncoding: "view", valueEncoding: "view" } as const

/** All keys of the database, sorted, packed as offsets into one byte buffer. */
class KeyIndex {
  constructor(
    readonly bytes: Uint8Array,
    readonly offsets: Uint32Array,
    readonly count: number
  ) {}
  key(i: number): Uint8Array {
    return this.bytes.subarray(this.offsets[i]!, this.offsets[i + 1]!)
  }
  /** First index whose key is ≥ key (count if none). */
  lowerBound(key: Uint8Array): number {
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compareKeys(this.key(mid), key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

const scanKeys = async (db: Db): Promise<KeyIndex> => {
  let bytes = new Uint8Array(1 << 16)
  let offsets = new Uint32Array(1 << 12)
  let count = 0
  let used = 0
  const it = db.keys(BUFFER)
  try {
    for (;;) {
      const batch = await it.nextv(4096)
      if (batch.length === 0) break
      for (const k of batch) {
        if (used + k.length > bytes.length) {
          const grown = new Uint8Array(Math.max(bytes.length * 2, used + k.length))
          grown.set(bytes.subarray(0, used))
          bytes = grown
        }
        if (count + 2 > offsets.length) {
          const grown = new Uint32Array(offsets.length * 2)
          grown.set(offsets)
          offsets = grown
        }
        bytes.set(k, used)
        offsets[count] = used
        used += k.length
        count++
      }
    }
  } finally {
    await it.close()
  }
  offsets[count] = used
  return new KeyIndex(bytes.slice(0, used), offsets.slice(0, count + 1), count)
}

class LevelDbReader implements DatumDb {
  readonly backend = "leveldb" as const
  constructor(
    readonly path: string,
    private readonly db: Db,
    private readonly keys: KeyIndex
  ) {}

  count(): number {
    return this.keys.count
  }

  private at(i: number): DbRecord {
    const key = this.keys.key(i)
    const value = this.db.getSync(key, BUFFER)
    if (value === undefined) {
      throw new DatumDbError({ path: this.path, message: `${this.path}: record vanished while reading (the database changed after it was opened)` })
    }
    return { key, value: plain(value) }
  }

  cursor(start?: Uint8Array | string): DbCursor {
    if (this.keys.count === 0) {
      throw new DatumDbError({ path: this.path, message: `${this.path}: the database is empty (expected records)` })
    }
    const reader = this
    const n = this.keys.count
    let i = start === undefined ? 0 : this.keys.lowerBound(keyBytes(start)) % n
    let wraps = 0
    return {
      get wraps() {
        return wraps
      },
      next() {
        const rec = reader.at(i)
        i++
        if (i === n) {
          i = 0
          wraps++
        }
        return rec
      },
      seek(key) {
        i = reader.keys.lowerBound(keyBytes(key)) % n
      },
      rewind() {
        i = 0
      }
    }
  }

  *range(options: { start?: Uint8Array | string; end?: Uint8Array | string } = {}): IterableIterator<DbRecord> {
    const from = options.start === undefined ? 0 : this.keys.lowerBound(keyBytes(options.start))
    const to = options.end === undefined ? this.keys.count : this.keys.lowerBound(keyBytes(options.end))
    for (let i = from; i < to; i++) yield this.at(i)
  }

  get(key: Uint8Array | string): Uint8Array | undefined {
    const value = this.db.getSync(keyBytes(key), BUFFER)
    return value === undefined ? undefined : plain(value)
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** Opens a Caffe LevelDB directory read-only (scans its keys once). */
export const openLevelDb = async (dbPath: string): Promise<DatumDb> => {
  if (!existsSync(dbPath)) {
    throw new DatumDbError({ path: dbPath, message: `${dbPath}: no such LevelDB database` })
  }
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dbPath, { ...BUFFER, createIfMissing: false })
  try {
    await db.open({ createIfMissing: false })
  } catch (e) {
    const cause = (e as { cause?: Error }).cause
    throw new DatumDbError({
      path: dbPath,
      message: `${dbPath}: cannot open LevelDB database (${(e as Error).message}${cause ? `: ${cause.message}` : ""})`
    })
  }
  return new LevelDbReader(dbPath, db, await scanKeys(db))
}

class LevelDbWriter implements DatumDbWriter {
  readonly backend = "leveldb" as const
  private batch: Array<{ type: "put"; key: Uint8Array; value: Uint8Array }> = []
  constructor(
    readonly path: string,
    private readonly db: Db,
    private readonly batchSize: number
  ) {}

  async put(key: Uint8Array | string, value: Uint8Array): Promise<void> {
    this.batch.push({ type: "put", key: keyBytes(key), value })
    if (this.batch.length >= this.batchSize) await this.flush()
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return
    const ops = this.batch
    this.batch = []
    await this.db.batch(ops, BUFFER)
  }

  async close(): Promise<void> {
    await this.flush()
    await this.db.close()
  }
}

/** Creates a new LevelDB database with Caffe's options (fails if it exists); commits every `batchSize` puts. */
export const createLevelDb = async (dbPath: string, batchSize = 1000): Promise<DatumDbWriter> => {
  if (existsSync(dbPath)) {
    throw new DatumDbError({ path: dbPath, message: `${dbPath}: already exists (expected a new database path)` })
  }
  mkdirSync(dbPath, { recursive: true })
  // Caffe: block_size 64 KiB, write_buffer_size 256 MiB, max_open_files 100, error_if_exists.
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dbPath, {
    ...BUFFER,
    blockSize: 65536,
    writeBufferSize: 268435456,
    maxOpenFiles: 100
  })
  try {
    await db.open()
  } catch (e) {
    throw new DatumDbError({ path: dbPath, message: `${dbPath}: cannot create LevelDB database (${(e as Error).message})` })
  }
  return new LevelDbWriter(dbPath, db, batchSize)
}
