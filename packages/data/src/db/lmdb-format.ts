/**
 * On-disk layout of an LMDB 0.9.x environment (data format version 1), the liblmdb that Caffe links
 * and that Debian's lmdb-utils ship. Written from the format as liblmdb 0.9 lays it out on 64-bit
 * hosts (little-endian; pgno_t, size_t, txnid_t are 8 bytes).
 *
 * Why not the npm `lmdb` package: its prebuilt binaries embed LMDB's newer data format (version 2:
 * 24-byte page headers, meta version 2). liblmdb 0.9 refuses those files (MDB_INVALID) and lmdb-js
 * crashes (SIGSEGV) on Caffe's version-1 files, so neither direction interoperates with Caffe.
 *
 * Page: 16-byte header {pgno u64, pad u16, flags u16, lower u16, upper u16 | overflow page count u32},
 * then u16 node offsets (sorted by key) growing up from byte 16, nodes packed from the page end down.
 * Meta pages 0 and 1 hold MDB_meta at byte 16; the one with the larger txnid is current.
 * Node: {lo u16, hi u16, flags u16, ksize u16, key, data}; leaf data size = lo | hi << 16; branch child
 * page = lo | hi << 16 | flags << 32. F_BIGDATA leaf nodes hold an 8-byte overflow page number instead.
 */

export const PAGE_HEADER_SIZE = 16
export const NODE_HEADER_SIZE = 8
export const MDB_MAGIC = 0xbeefc0de
export const MDB_DATA_VERSION = 1

export const P_BRANCH = 0x01
export const P_LEAF = 0x02
export const P_OVERFLOW = 0x04
export const P_META = 0x08
export const P_LEAF2 = 0x20

export const F_BIGDATA = 0x01
export const F_SUBDATA = 0x02
export const F_DUPDATA = 0x04

/** MDB_INTEGERKEY: liblmdb sets it on the free-page database. */
export const MDB_INTEGERKEY = 0x08

export const P_INVALID = 0xffffffffffffffffn

/** Offsets inside a meta page (MDB_meta begins after the page header). */
export const META = {
  magic: 16,
  version: 20,
  address: 24,
  mapsize: 32,
  freeDb: 40,
  mainDb: 88,
  lastPage: 136,
  txnid: 144,
  end: 152
} as const

/** Offsets inside an MDB_db record (48 bytes). */
export const DB = {
  pad: 0,
  flags: 4,
  depth: 6,
  branchPages: 8,
  leafPages: 16,
  overflowPages: 24,
  entries: 32,
  root: 40
} as const

/** Largest leaf node kept inline (liblmdb's me_nodemax with MDB_MINKEYS = 2); larger values overflow. */
export const nodeMax = (pageSize: number): number => (((pageSize - PAGE_HEADER_SIZE) / 2) & ~1) - 2

/** Pages an overflow value of `size` bytes occupies (liblmdb's OVPAGES). */
export const overflowPages = (size: number, pageSize: number): number =>
  Math.floor((PAGE_HEADER_SIZE - 1 + size) / pageSize) + 1

/** liblmdb's default key order: memcmp, then the shorter key first. */
export const compareKeys = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)
