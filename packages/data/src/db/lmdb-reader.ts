/**
 * Read-only access to an LMDB 0.9 (data format 1) environment, Caffe's LMDB: the current meta page's
 * main database B+tree is walked with positional reads through a small chunk cache, so memory stays
 * bounded whatever the database size. Layout: see ./lmdb-format.ts.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs"
import path from "node:path"
import { DatumDbError } from "../errors.js"
import type { DatumDb, DbCursor, DbRecord } from "./datum-db.js"
import { keyBytes, keyText } from "./datum-db.js"
import {
  compareKeys,
  DB,
  F_BIGDATA,
  F_DUPDATA,
  F_SUBDATA,
  MDB_DATA_VERSION,
  MDB_MAGIC,
  META,
  NODE_HEADER_SIZE,
  P_BRANCH,
  P_INVALID,
  P_LEAF,
  P_LEAF2,
  P_OVERFLOW,
  PAGE_HEADER_SIZE
} from "./lmdb-format.js"

const CHUNK_PAGES = 64
const MAX_CHUNKS = 32

/** data.mdb inside a Caffe LMDB directory, or the file itself (MDB_NOSUBDIR layout). */
export const lmdbDataFile = (p: string): string => {
  try {
    return statSync(p).isDirectory() ? path.join(p, "data.mdb") : p
  } catch {
    return path.join(p, "data.mdb")
  }
}

interface MainDb {
  readonly pageSize: number
  readonly root: number | null
  readonly entries: number
  readonly depth: number
  readonly flags: number
}

class PageFile {
  private readonly chunks = new Map<number, Buffer>()
  constructor(
    readonly file: string,
    readonly fd: number,
    readonly pageSize: number,
    readonly size: number
  ) {}

  page(pgno: number): Buffer {
    const chunk = this.chunk(pgno)
    const offset = (pgno % CHUNK_PAGES) * this.pageSize
    if (offset + this.pageSize > chunk.length) {
      throw this.corrupt(`page ${pgno} lies past the end of the file (${this.size} bytes)`)
    }
    return chunk.subarray(offset, offset + this.pageSize)
  }

  /** The cached chunk holding page `pgno` (read on a miss). */
  private chunk(pgno: number): Buffer {
    const chunkNo = Math.floor(pgno / CHUNK_PAGES)
    let chunk = this.chunks.get(chunkNo)
    if (chunk === undefined) {
      const start = chunkNo * CHUNK_PAGES * this.pageSize
      const length = Math.min(CHUNK_PAGES * this.pageSize, this.size - start)
      if (length <= 0) throw this.corrupt(`page ${pgno} lies past the end of the file (${this.size} bytes)`)
      chunk = Buffer.allocUnsafe(length)
      readSync(this.fd, chunk, 0, length, start)
      if (this.chunks.size >= MAX_CHUNKS) this.chunks.delete(this.chunks.keys().next().value!)
      this.chunks.set(chunkNo, chunk)
    } else {
      // refresh recency: Map iteration order is insertion order
      this.chunks.delete(chunkNo)
      this.chunks.set(chunkNo, chunk)
    }
    return chunk
  }

  /**
   * Bytes of an overflow value starting on page `pgno`. A value whose pages lie in one chunk (e.g.
   * CIFAR-10's 3 KB records, one page each) is a view of the cached chunk, like a leaf value; a longer
   * one is read directly into an array of its own.
   */
  overflow(pgno: number, length: number): Uint8Array {
    const head = this.page(pgno)
    if ((head.readUInt16LE(10) & P_OVERFLOW) === 0) throw this.corrupt(`page ${pgno} is not an overflow page`)
    const start = pgno * this.pageSize + PAGE_HEADER_SIZE
    if (start + length > this.size) throw this.corrupt(`overflow value on page ${pgno} runs past the end of the file`)
    const chunk = this.chunk(pgno)
    const at = (pgno % CHUNK_PAGES) * this.pageSize + PAGE_HEADER_SIZE
    if (at + length <= chunk.length) return viewOf(chunk, at, length)
    const out = new Uint8Array(length)
    readSync(this.fd, out, 0, length, start)
    return out
  }

  corrupt(what: string): DatumDbError {
    return new DatumDbError({ path: this.file, message: `${this.file}: not a valid LMDB 0.9 database: ${what}` })
  }
}

const readMeta = (file: string, fd: number, size: number): MainDb & { txnid: bigint } => {
  const metas: Array<MainDb & { txnid: bigint }> = []
  // The page size is in the free database's md_pad; read the first meta with a generous buffer.
  const first = Buffer.alloc(META.end)
  if (size < META.end) {
    throw new DatumDbError({ path: file, message: `${file}: ${size} bytes is too small for an LMDB database` })
  }
  readSync(fd, first, 0, META.end, 0)
  const pageSize = first.readUInt32LE(META.freeDb + DB.pad)
  for (let i = 0; i < 2; i++) {
    const m = Buffer.alloc(META.end)
    if (i * pageSize + META.end > size) break
    readSync(fd, m, 0, META.end, i * pageSize)
    const magic = m.readUInt32LE(META.magic)
    const version = m.readUInt32LE(META.version)
    if (magic !== MDB_MAGIC) {
      throw new DatumDbError({
        path: file,
        message: `${file}: meta page ${i} has magic 0x${magic.toString(16)}, expected 0x${MDB_MAGIC.toString(16)} (not an LMDB file${
          m.readUInt32LE(24) === MDB_MAGIC ? "; it looks like LMDB's newer format 2, written by the npm lmdb package" : ""
        })`
      })
    }
    if (version !== MDB_DATA_VERSION) {
      throw new DatumDbError({
        path: file,
        message: `${file}: LMDB data format version ${version}, expected ${MDB_DATA_VERSION} (liblmdb 0.9, as Caffe writes)`
      })
    }
    const root = m.readBigUInt64LE(META.mainDb + DB.root)
    metas.push({
      pageSize,
      root: root === P_INVALID ? null : Number(root),
      entries: Number(m.readBigUInt64LE(META.mainDb + DB.entries)),
      depth: m.readUInt16LE(META.mainDb + DB.depth),
      flags: m.readUInt16LE(META.mainDb + DB.flags),
      txnid: m.readBigUInt64LE(META.txnid)
    })
  }
  const meta = metas.length === 2 && metas[1]!.txnid > metas[0]!.txnid ? metas[1]! : metas[0]!
  if (meta.flags !== 0) {
    throw new DatumDbError({
      path: file,
      message: `${file}: main database flags 0x${meta.flags.toString(16)}; Caffe's layout uses default flags (0)`
    })
  }
  return meta
}

interface Frame {
  page: Buffer
  index: number
  count: number
}

/**
 * A plain Uint8Array view into the page chunk (no copy: allocating a backing store per record costs more
 * than the read). Chunks are never reused after eviction, so views stay valid; a kept view keeps its
 * chunk (up to 256 KiB) alive, so callers that retain many records should copy them.
 */
const viewOf = (page: Buffer, at: number, length: number): Uint8Array =>
  new Uint8Array(page.buffer, page.byteOffset + at, length)
const numKeys = (page: Buffer): number => (page.readUInt16LE(12) - PAGE_HEADER_SIZE) >> 1
const nodeOffset = (page: Buffer, i: number): number => page.readUInt16LE(PAGE_HEADER_SIZE + 2 * i)
const nodeKey = (page: Buffer, off: number): Buffer =>
  page.subarray(off + NODE_HEADER_SIZE, off + NODE_HEADER_SIZE + page.readUInt16LE(off + 6))
const childPage = (page: Buffer, off: number): number =>
  page.readUInt16LE(off) + page.readUInt16LE(off + 2) * 0x10000 + page.readUInt16LE(off + 4) * 0x100000000

class LmdbReader implements DatumDb {
  readonly backend = "lmdb" as const
  private closed = false
  constructor(
    readonly path: string,
    private readonly pages: PageFile,
    private readonly db: MainDb
  ) {}

  count(): number {
    return this.db.entries
  }

  private flagsOf(page: Buffer): number {
    return page.readUInt16LE(10)
  }

  /** Descends from the root to the leaf that holds the first key ≥ key (or the leftmost leaf). */
  descend(key: Uint8Array | null): Array<Frame> {
    const stack: Array<Frame> = []
    if (this.db.root === null) return stack
    let pgno = this.db.root
    for (;;) {
      const page = this.pages.page(pgno)
      const flags = this.flagsOf(page)
      const n = numKeys(page)
      if (flags & P_LEAF2) throw this.pages.corrupt(`page ${pgno} is a LEAF2 page (DUPFIXED), not Caffe's layout`)
      if (flags & P_BRANCH) {
        // child i holds keys in [key_i, key_{i+1}); key_0 is implicit (−∞)
        let i = 0
        if (key !== null) {
          let lo = 1
          let hi = n - 1
          while (lo <= hi) {
            const mid = (lo + hi) >> 1
            if (compareKeys(nodeKey(page, nodeOffset(page, mid)), key) <= 0) {
              i = mid
              lo = mid + 1
            } else hi = mid - 1
          }
        }
        stack.push({ page, index: i, count: n })
        pgno = childPage(page, nodeOffset(page, i))
      } else if (flags & P_LEAF) {
        let i = 0
        if (key !== null) {
          let lo = 0
          let hi = n
          while (lo < hi) {
            const mid = (lo + hi) >> 1
            if (compareKeys(nodeKey(page, nodeOffset(page, mid)), key) < 0) lo = mid + 1
            else hi = mid
          }
          i = lo
        }
        stack.push({ page, index: i, count: n })
        return stack
      } else throw this.pages.corrupt(`page ${pgno} has flags 0x${flags.toString(16)}, expected a branch or leaf page`)
      if (stack.length > 64) throw this.pages.corrupt("tree deeper than 64 levels")
    }
  }

  /** Moves the stack to the next leaf when the current one is exhausted; false at the end. */
  settle(stack: Array<Frame>): boolean {
    for (;;) {
      const top = stack[stack.length - 1]
      if (top === undefined) return false
      if (top.index < top.count) {
        if (this.flagsOf(top.page) & P_LEAF) return true
        const pgno = childPage(top.page, nodeOffset(top.page, top.index))
        const page = this.pages.page(pgno)
        stack.push({ page, index: 0, count: numKeys(page) })
        continue
      }
      stack.pop()
      const parent = stack[stack.length - 1]
      if (parent === undefined) return false
      parent.index++
    }
  }

  record(frame: Frame): DbRecord {
    const { page } = frame
    const off = nodeOffset(page, frame.index)
    const flags = page.readUInt16LE(off + 4)
    const ksize = page.readUInt16LE(off + 6)
    const dsize = page.readUInt16LE(off) + page.readUInt16LE(off + 2) * 0x10000
    const key = viewOf(page, off + NODE_HEADER_SIZE, ksize)
    if (flags & (F_SUBDATA | F_DUPDATA)) {
      throw this.pages.corrupt(`key "${keyText(key)}" is a named or DUPSORT database, not Caffe's layout`)
    }
    const dataAt = off + NODE_HEADER_SIZE + ksize
    const value =
      flags & F_BIGDATA
        ? this.pages.overflow(Number(page.readBigUInt64LE(dataAt)), dsize)
        : viewOf(page, dataAt, dsize)
    return { key, value }
  }

  cursor(start?: Uint8Array | string): DbCursor {
    this.check()
    if (this.db.entries === 0 || this.db.root === null) {
      throw new DatumDbError({ path: this.path, message: `${this.path}: the database is empty (expected records)` })
    }
    const reader = this
    let stack = reader.descend(start === undefined ? null : keyBytes(start))
    let wraps = 0
    if (!reader.settle(stack)) stack = reader.descend(null)
    return {
      get wraps() {
        return wraps
      },
      next() {
        if (!reader.settle(stack)) {
          wraps++
          stack = reader.descend(null)
          reader.settle(stack)
        }
        const top = stack[stack.length - 1]!
        const rec = reader.record(top)
        top.index++
        return rec
      },
      seek(key) {
        stack = reader.descend(keyBytes(key))
        if (!reader.settle(stack)) stack = reader.descend(null)
      },
      rewind() {
        stack = reader.descend(null)
      }
    }
  }

  *range(options: { start?: Uint8Array | string; end?: Uint8Array | string } = {}): IterableIterator<DbRecord> {
    this.check()
    const end = options.end === undefined ? null : keyBytes(options.end)
    const stack = this.descend(options.start === undefined ? null : keyBytes(options.start))
    while (this.settle(stack)) {
      const top = stack[stack.length - 1]!
      const rec = this.record(top)
      if (end !== null && compareKeys(rec.key, end) >= 0) return
      top.index++
      yield rec
    }
  }

  /** Keys in order, without reading values (overflow pages are not touched). */
  *keys(): IterableIterator<Uint8Array> {
    this.check()
    const stack = this.descend(null)
    while (this.settle(stack)) {
      const top = stack[stack.length - 1]!
      const off = nodeOffset(top.page, top.index)
      yield viewOf(top.page, off + NODE_HEADER_SIZE, top.page.readUInt16LE(off + 6))
      top.index++
    }
  }

  get(key: Uint8Array | string): Uint8Array | undefined {
    this.check()
    const k = keyBytes(key)
    const stack = this.descend(k)
    if (!this.settle(stack)) return undefined
    const rec = this.record(stack[stack.length - 1]!)
    return compareKeys(rec.key, k) === 0 ? rec.value : undefined
  }

  private check(): void {
    if (this.closed) throw new DatumDbError({ path: this.path, message: `${this.path}: database is closed` })
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      closeSync(this.pages.fd)
    }
  }
}

/** Opens a Caffe LMDB (directory with data.mdb, or the data file) read-only. */
export const openLmdb = (dbPath: string): DatumDb => {
  const file = lmdbDataFile(dbPath)
  let fd: number
  try {
    fd = openSync(file, "r")
  } catch (e) {
    throw new DatumDbError({ path: dbPath, message: `${dbPath}: cannot open LMDB database (${(e as Error).message})` })
  }
  try {
    const size = fstatSync(fd).size
    const meta = readMeta(file, fd, size)
    return new LmdbReader(dbPath, new PageFile(file, fd, meta.pageSize, size), meta)
  } catch (e) {
    closeSync(fd)
    throw e
  }
}
