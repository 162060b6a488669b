/**
 * Caffe's LevelDB backend through `classic-level` (LevelDB 1.x with snappy, the format Caffe's leveldb
 * writes). LevelDB's iterators are asynchronous in Node, while the engine reads synchronously: opening
 * therefore scans the keys once (keys only, packed into one buffer — values are never held), and
 * records are then read with synchronous point lookups in key order.
 */
import type { ClassicLevel } from "classic-level"
import { existsSync, mkdirSync } from "node:fs"
import { DatumDbError } from "../errors.js"
import type { DatumDb, DatumDbWriter, DbCursor, DbRecord } from "./datum-db.js"
import { keyBytes } from "./datum-db.js"
import { KeyIndex, KeyIndexBuilder } from "./key-index.js"

/** classic-level hands out Buffers; records are plain Uint8Arrays everywhere in deepspark. */
const plain = (v: Uint8Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)

type Db = ClassicLevel<Uint8Array, Uint8Array>

/**
 * classic-level (a native addon) is loaded when a LevelDB is first opened, not with the module: every
 * trainer thread imports the data package, and LMDB runs never need it.
 */
let classicLevel: typeof ClassicLevel | undefined
const loadClassicLevel = async () => (classicLevel ??= (await import("classic-level")).ClassicLevel)

const BUFFER = { keyEncoding: "view", valueEncoding: "view" } as const

const scanKeys = async (db: Db): Promise<KeyIndex> => {
  const keys = new KeyIndexBuilder()
  const it = db.keys(BUFFER)
  try {
    for (;;) {
      const batch = await it.nextv(4096)
      if (batch.length === 0) break
      for (const k of batch) keys.add(k)
    }
  } finally {
    await it.close()
  }
  return keys.build()
}

class LevelDbReader implements DatumDb {
  readonly backend = "leveldb" as const
  constructor(
    readonly path: string,
    private readonly db: Db,
    private readonly keyIndex: KeyIndex
  ) {}

  count(): number {
    return this.keyIndex.count
  }

  private at(i: number): DbRecord {
    const key = this.keyIndex.key(i)
    const value = this.db.getSync(key, BUFFER)
    if (value === undefined) {
      throw new DatumDbError({ path: this.path, message: `${this.path}: record vanished while reading (the database changed after it was opened)` })
    }
    return { key, value: plain(value) }
  }

  cursor(start?: Uint8Array | string): DbCursor {
    if (this.keyIndex.count === 0) {
      throw new DatumDbError({ path: this.path, message: `${this.path}: the database is empty (expected records)` })
    }
    const reader = this
    const n = this.keyIndex.count
    let i = start === undefined ? 0 : this.keyIndex.lowerBound(keyBytes(start)) % n
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
        i = reader.keyIndex.lowerBound(keyBytes(key)) % n
      },
      rewind() {
        i = 0
      }
    }
  }

  *range(options: { start?: Uint8Array | string; end?: Uint8Array | string } = {}): IterableIterator<DbRecord> {
    const from = options.start === undefined ? 0 : this.keyIndex.lowerBound(keyBytes(options.start))
    const to = options.end === undefined ? this.keyIndex.count : this.keyIndex.lowerBound(keyBytes(options.end))
    for (let i = from; i < to; i++) yield this.at(i)
  }

  *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.keyIndex.count; i++) yield this.keyIndex.key(i)
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
  const Level = await loadClassicLevel()
  const db: Db = new Level<Uint8Array, Uint8Array>(dbPath, { ...BUFFER, createIfMissing: false })
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
  const Level = await loadClassicLevel()
  mkdirSync(dbPath, { recursive: true })
  // Caffe: block_size 64 KiB, write_buffer_size 256 MiB, max_open_files 100, error_if_exists.
  const db: Db = new Level<Uint8Array, Uint8Array>(dbPath, {
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
