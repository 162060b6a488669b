/**
 * Writes a new LMDB 0.9 (data format 1) environment as one bulk load, the database liblmdb would hold
 * after a single committed transaction: leaves filled in key order, overflow pages for values too large
 * to stay inline, branch levels built bottom-up, then both meta pages. Keys must arrive in strictly
 * ascending byte order — every Caffe converter writes them that way (`%08d`, `%05d`, `%08d_<file>`).
 * Memory: one page being filled plus (first key, page) per leaf. Layout: see ./lmdb-format.ts.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs"
import path from "node:path"
import { DatumDbError } from "../errors.js"
import type { DatumDbWriter } from "./datum-db.js"
import { keyBytes, keyText } from "./datum-db.js"
import {
  compareKeys,
  DB,
  F_BIGDATA,
  MDB_DATA_VERSION,
  MDB_INTEGERKEY,
  MDB_MAGIC,
  META,
  NODE_HEADER_SIZE,
  nodeMax,
  overflowPages,
  P_BRANCH,
  P_INVALID,
  P_LEAF,
  P_META,
  P_OVERFLOW,
  PAGE_HEADER_SIZE
} from "./lmdb-format.js"

const even = (n: number): number => (n + 1) & ~1
const MAX_KEY_SIZE = 511 // liblmdb's MDB_MAXKEYSIZE
const CAFFE_MAP_SIZE = 1099511627776

/** Accumulates nodes of one page, placed from the page end downwards like liblmdb. */
class PageBuilder {
  readonly buf: Buffer
  lower = PAGE_HEADER_SIZE
  upper: number
  constructor(readonly pageSize: number) {
    this.buf = Buffer.alloc(pageSize)
    this.upper = pageSize
  }
  fits(nodeSize: number): boolean {
    return this.upper - this.lower >= even(nodeSize) + 2
  }
  get count(): number {
    return (this.lower - PAGE_HEADER_SIZE) >> 1
  }
  /** Writes a node header + key; returns the offset where node data goes. */
  add(nodeSize: number, lo: number, hi: number, flags: number, key: Uint8Array): number {
    this.upper -= even(nodeSize)
    const off = this.upper
    this.buf.writeUInt16LE(off, this.lower)
    this.lower += 2
    this.buf.writeUInt16LE(lo, off)
    this.buf.writeUInt16LE(hi, off + 2)
    this.buf.writeUInt16LE(flags, off + 4)
    this.buf.writeUInt16LE(key.length, off + 6)
    this.buf.set(key, off + NODE_HEADER_SIZE)
    return off + NODE_HEADER_SIZE + key.length
  }
  finish(pgno: number, pageFlags: number): Buffer {
    this.buf.writeBigUInt64LE(BigInt(pgno), 0)
    this.buf.writeUInt16LE(pageFlags, 10)
    this.buf.writeUInt16LE(this.lower, 12)
    this.buf.writeUInt16LE(this.upper, 14)
    return this.buf
  }
}

interface ChildRef {
  readonly key: Uint8Array
  readonly pgno: number
}

export interface LmdbWriterOptions {
  /** LMDB page size (liblmdb uses the OS page size, 4096 on x86-64 Linux). */
  readonly pageSize?: number
}

class LmdbWriter implements DatumDbWriter {
  readonly backend = "lmdb" as const
  private readonly fd: number
  private readonly pageSize: number
  private readonly nodeMax: number
  private nextPage = 2 // pages 0 and 1 are the metas
  private leaf: PageBuilder
  private leafFirstKey: Uint8Array | null = null
  private readonly leaves: Array<ChildRef> = []
  private lastKey: Uint8Array | null = null
  private entries = 0
  private overflowCount = 0
  private closed = false

  constructor(
    readonly path: string,
    options: LmdbWriterOptions
  ) {
    this.pageSize = options.pageSize ?? 4096
    this.nodeMax = nodeMax(this.pageSize)
    try {
      mkdirSync(path, { recursive: true })
      this.fd = openSync(`${path}/data.mdb`, "wx")
      // liblmdb (re)initialises an unlocked, empty lock file on first open.
      closeSync(openSync(`${path}/lock.mdb`, "w"))
    } catch (e) {
      throw new DatumDbError({
        path,
        message: `${path}: cannot create LMDB database (${(e as Error).message}; the output must not exist yet)`
      })
    }
    this.leaf = new PageBuilder(this.pageSize)
  }

  private writePage(pgno: number, bytes: Uint8Array): void {
    writeSync(this.fd, bytes, 0, bytes.length, pgno * this.pageSize)
  }

  async put(key: Uint8Array | string, value: Uint8Array): Promise<void> {
    this.putSync(key, value)
  }

  putSync(keyIn: Uint8Array | string, value: Uint8Array): void {
    if (this.closed) throw new DatumDbError({ path: this.path, message: `${this.path}: writer is closed` })
    const key = keyBytes(keyIn)
    if (key.length === 0 || key.length > MAX_KEY_SIZE) {
      throw new DatumDbError({
        path: this.path,
        message: `${this.path}: key "${keyText(key)}" has ${key.length} bytes (expected 1..${MAX_KEY_SIZE})`
      })
    }
    if (this.lastKey !== null && compareKeys(key, this.lastKey) <= 0) {
      throw new DatumDbError({
        path: this.path,
        message: `${this.path}: key "${keyText(key)}" does not follow "${keyText(this.lastKey)}" (keys must be written in strictly ascending byte order)`
      })
    }
    this.lastKey = key
    const big = NODE_HEADER_SIZE + key.length + value.length > this.nodeMax
    const nodeSize = NODE_HEADER_SIZE + key.length + (big ? 8 : value.length)
    if (!this.leaf.fits(nodeSize)) this.flushLeaf()
    if (this.leafFirstKey === null) this.leafFirstKey = key
    const lo = value.length & 0xffff
    const hi = Math.floor(value.length / 0x10000)
    const at = this.leaf.add(nodeSize, lo, hi, big ? F_BIGDATA : 0, key)
    if (big) {
      const pages = overflowPages(value.length, this.pageSize)
      const pgno = this.nextPage
      this.nextPage += pages
      this.overflowCount += pages
      const block = Buffer.alloc(pages * this.pageSize)
      block.writeBigUInt64LE(BigInt(pgno), 0)
      block.writeUInt16LE(P_OVERFLOW, 10)
      block.writeUInt32LE(pages, 12)
      block.set(value, PAGE_HEADER_SIZE)
      this.writePage(pgno, block)
      this.leaf.buf.writeBigUInt64LE(BigInt(pgno), at)
    } else {
      this.leaf.buf.set(value, at)
    }
    this.entries++
  }

  private flushLeaf(): void {
    if (this.leaf.count === 0) return
    const pgno = this.nextPage++
    this.writePage(pgno, this.leaf.finish(pgno, P_LEAF))
    this.leaves.push({ key: this.leafFirstKey!, pgno })
    this.leaf = new PageBuilder(this.pageSize)
    this.leafFirstKey = null
  }

  /** Builds one branch level over `children`; the first key of each branch page is implicit. */
  private branchLevel(children: ReadonlyArray<ChildRef>): Array<ChildRef> {
    const parents: Array<ChildRef> = []
    let page = new PageBuilder(this.pageSize)
    let firstKey: Uint8Array | null = null
    const flush = () => {
      const pgno = this.nextPage++
      this.writePage(pgno, page.finish(pgno, P_BRANCH))
      parents.push({ key: firstKey!, pgno })
      page = new PageBuilder(this.pageSize)
      firstKey = null
    }
    for (const child of children) {
      let key = firstKey === null ? new Uint8Array(0) : child.key
      // a branch page must hold at least two children; close it only when the next one would not fit
      if (!page.fits(NODE_HEADER_SIZE + key.length)) {
        flush()
        key = new Uint8Array(0)
      }
      if (firstKey === null) firstKey = child.key
      page.add(
        NODE_HEADER_SIZE + key.length,
        child.pgno & 0xffff,
        Math.floor(child.pgno / 0x10000) & 0xffff,
        Math.floor(child.pgno / 0x100000000) & 0xffff,
        key
      )
    }
    if (page.count > 0) flush()
    return parents
  }

  private meta(txnid: number, lastPage: number, main: {
    depth: number
    branch: number
    leaf: number
    overflow: number
    entries: number
    root: bigint
  }, mapSize: number, pgno: number): Buffer {
    const m = Buffer.alloc(this.pageSize)
    m.writeBigUInt64LE(BigInt(pgno), 0)
    m.writeUInt16LE(P_META, 10)
    m.writeUInt32LE(MDB_MAGIC, META.magic)
    m.writeUInt32LE(MDB_DATA_VERSION, META.version)
    m.writeBigUInt64LE(BigInt(mapSize), META.mapsize)
    // free-page database: empty; its md_pad records the page size
    m.writeUInt32LE(this.pageSize, META.freeDb + DB.pad)
    m.writeUInt16LE(MDB_INTEGERKEY, META.freeDb + DB.flags)
    m.writeBigUInt64LE(P_INVALID, META.freeDb + DB.root)
    m.writeUInt16LE(main.depth, META.mainDb + DB.depth)
    m.writeBigUInt64LE(BigInt(main.branch), META.mainDb + DB.branchPages)
    m.writeBigUInt64LE(BigInt(main.leaf), META.mainDb + DB.leafPages)
    m.writeBigUInt64LE(BigInt(main.overflow), META.mainDb + DB.overflowPages)
    m.writeBigUInt64LE(BigInt(main.entries), META.mainDb + DB.entries)
    m.writeBigUInt64LE(main.root, META.mainDb + DB.root)
    m.writeBigUInt64LE(BigInt(lastPage), META.lastPage)
    m.writeBigUInt64LE(BigInt(txnid), META.txnid)
    return m
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.flushLeaf()
    let level: Array<ChildRef> = this.leaves
    let depth = level.length > 0 ? 1 : 0
    let branch = 0
    while (level.length > 1) {
      const before = this.nextPage
      level = this.branchLevel(level)
      branch += this.nextPage - before
      depth++
    }
    const root = level.length === 1 ? BigInt(level[0]!.pgno) : P_INVALID
    const lastPage = this.nextPage - 1
    // Caffe's LMDB writer sets a 1 TiB map (LMDB_MAP_SIZE); recording it lets liblmdb tools append.
    const mapSize = Math.max(CAFFE_MAP_SIZE, this.nextPage * this.pageSize)
    const empty = { depth: 0, branch: 0, leaf: 0, overflow: 0, entries: 0, root: P_INVALID }
    this.writePage(0, this.meta(0, 1, empty, mapSize, 0))
    this.writePage(
      1,
      this.meta(1, lastPage, { depth, branch, leaf: this.leaves.length, overflow: this.overflowCount, entries: this.entries, root }, mapSize, 1)
    )
    closeSync(this.fd)
    this.closed = true
  }
}

/** Creates a new Caffe LMDB directory (data.mdb + lock.mdb) at `dir`. */
export const createLmdb = (dir: string, options: LmdbWriterOptions = {}): LmdbWriter & DatumDbWriter =>
  new LmdbWriter(path.resolve(dir), options)

export type { LmdbWriter }
