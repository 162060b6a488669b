/**
 * Overflow values (records larger than a leaf node, e.g. CIFAR-10's 3 KB Datums) are served from the
 * reader's page-chunk cache as views, like leaf values, when their pages lie in one chunk, so reading
 * them allocates and copies nothing per record; values straddling two chunks are read into arrays of
 * their own. Either way they stay valid after their chunk leaves the cache.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { keyText } from "../src/db/datum-db.js"
import { openLmdb } from "../src/db/lmdb-reader.js"
import { createLmdb } from "../src/db/lmdb-writer.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-lmdb-overflow-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const key8 = (i: number) => String(i).padStart(8, "0")
const sizeOf = (i: number): number => (i % 97 === 5 ? 9000 : i % 3 === 0 ? 795 : 3087)
const valueOf = (i: number): Uint8Array => Uint8Array.from({ length: sizeOf(i) }, (_, j) => (i * 131 + j * 7) & 255)

describe("LMDB overflow values", () => {
  it("are chunk views when their pages lie in one chunk, copies when they straddle two; all stay valid after eviction", async () => {
    const dir = path.join(tmp, "db")
    const w = createLmdb(dir)
    // ≈ 2,700 overflow pages: more than the reader's 2,048-page cache, so early chunks are evicted.
    const n = 4000
    for (let i = 0; i < n; i++) await w.put(key8(i), valueOf(i))
    await w.close()
    const db = openLmdb(dir)
    const cursor = db.cursor()
    const kept = Array.from({ length: n }, () => cursor.next())
    let views = 0
    let copies = 0
    kept.forEach((rec, i) => {
      expect(keyText(rec.key)).toBe(key8(i))
      expect(Buffer.compare(rec.value, valueOf(i))).toBe(0)
      if (rec.value.byteLength > 795) {
        if (rec.value.buffer.byteLength > rec.value.byteLength) views++
        else copies++
      }
    })
    // Most one-page values are views; only those crossing a 64-page chunk boundary (and the 3-page
    // values that do) are copies.
    expect(views).toBeGreaterThan(2000)
    expect(copies).toBeLessThan(views / 10)
  })
})
