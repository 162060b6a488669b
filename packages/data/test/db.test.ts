import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { keyText, parseBackend } from "../src/db/datum-db.js"
import { openLmdb } from "../src/db/lmdb-reader.js"
import { createLmdb } from "../src/db/lmdb-writer.js"
import { createDatumDb, openDatumDb } from "../src/db/open.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-db-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const fixtureValue = (i: number): Uint8Array => {
  const n = i === 7 || i === 1000 ? 5000 : 30
  return Uint8Array.from({ length: n }, (_, j) => (i * 31 + j * 7) & 255)
}
/** Byte equality without vitest's slow element-wise diff. */
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a !== undefined && b !== undefined && Buffer.compare(a, b) === 0
const key8 = (i: number) => String(i).padStart(8, "0")

const hasTool = (tool: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" })
    return true
  } catch {
    return false
  }
}

describe("LMDB (liblmdb 0.9 format, as Caffe writes)", () => {
  it("reads a database written by liblmdb 0.9.24 (branch, leaf and overflow pages)", () => {
    const db = openLmdb(path.join(here, "fixtures/liblmdb-0.9"))
    expect(db.count()).toBe(1200)
    let i = 0
    for (const rec of db.range()) {
      expect(keyText(rec.key)).toBe(key8(i))
      expect(same(rec.value, fixtureValue(i))).toBe(true)
      i++
    }
    expect(i).toBe(1200)
    expect(same(db.get("00001000"), fixtureValue(1000))).toBe(true)
    expect(db.get("00001000x")).toBeUndefined()
  })

  it("cursor: key order, seek by key, wraps after the last record", () => {
    const db = openLmdb(path.join(here, "fixtures/liblmdb-0.9"))
    const c = db.cursor("00001198")
    expect(keyText(c.next().key)).toBe("00001198")
    expect(keyText(c.next().key)).toBe("00001199")
    expect(c.wraps).toBe(0)
    expect(keyText(c.next().key)).toBe("00000000")
    expect(c.wraps).toBe(1)
    c.seek("00000500a") // between keys: next larger
    expect(keyText(c.next().key)).toBe("00000501")
    const part = [...db.range({ start: "00000010", end: "00000013" })].map((r) => keyText(r.key))
    expect(part).toEqual(["00000010", "00000011", "00000012"])
  })

  it("writes databases it and liblmdb read back identically (inline, overflow, multi-level)", async () => {
    const dir = path.join(tmp, "rt")
    const w = createLmdb(dir)
    const values: Array<Uint8Array> = []
    for (let i = 0; i < 3000; i++) {
      const v = Uint8Array.from({ length: i % 500 === 3 ? 9000 : 795 }, (_, j) => (i + j) & 255)
      values.push(v)
      await w.put(key8(i), v)
    }
    await w.close()
    const db = openLmdb(dir)
    expect(db.count()).toBe(3000)
    let i = 0
    for (const rec of db.range()) {
      expect(keyText(rec.key)).toBe(key8(i))
      expect(same(rec.value, values[i])).toBe(true)
      i++
    }
    expect(i).toBe(3000)
    if (hasTool("mdb_dump")) {
      // liblmdb's own dump must list the same records
      const dump = execFileSync("mdb_dump", [dir], { maxBuffer: 64 << 20 }).toString().split("\n")
      const body = dump.slice(dump.indexOf("HEADER=END") + 1, dump.indexOf("DATA=END"))
      expect(body.length).toBe(6000)
      expect(body[2 * 2999]!.trim()).toBe(Buffer.from(key8(2999)).toString("hex"))
      expect(body[2 * 503 + 1]!.trim()).toBe(Buffer.from(values[503]!).toString("hex"))
    }
  })

  it("refuses keys out of order and names the keys", async () => {
    const w = createLmdb(path.join(tmp, "order"))
    await w.put("00000002", new Uint8Array([1]))
    await expect(w.put("00000001", new Uint8Array([1]))).rejects.toThrow(/"00000001" does not follow "00000002"/)
  })

  it("explains a non-LMDB file and LMDB's newer format 2", () => {
    const dir = path.join(tmp, "bad")
    rmSync(dir, { recursive: true, force: true })
    const page = Buffer.alloc(4096)
    page.writeUInt32LE(0xbeefc0de, 24) // format 2 places the meta 8 bytes later
    page.writeUInt32LE(2, 28)
    createLmdb(dir) // makes the directory
    writeFileSync(path.join(dir, "data.mdb"), page)
    expect(() => openLmdb(dir)).toThrow(/data\.mdb: meta page 0 has magic 0x0.*format 2/)
    expect(() => openLmdb(path.join(tmp, "missing"))).toThrow(/missing: cannot open LMDB database/)
  })
})

describe("LevelDB (classic-level)", () => {
  it("round-trips records in key order with batched writes, cursor wraps", async () => {
    const dir = path.join(tmp, "ldb")
    const w = await createDatumDb(dir, "leveldb", { batchSize: 100 })
    for (let i = 0; i < 1000; i++) await w.put(key8(999 - i), fixtureValue(999 - i))
    await w.close()
    const db = await openDatumDb(dir, "leveldb")
    expect(db.count()).toBe(1000)
    const keys = [...db.range()].map((r) => keyText(r.key))
    expect(keys).toEqual(Array.from({ length: 1000 }, (_, i) => key8(i)))
    expect(same(db.get(key8(7)), fixtureValue(7))).toBe(true)
    const c = db.cursor(key8(999))
    expect(keyText(c.next().key)).toBe(key8(999))
    const rec = c.next()
    expect(keyText(rec.key)).toBe(key8(0))
    expect(same(rec.value, fixtureValue(0))).toBe(true)
    expect(c.wraps).toBe(1)
    await db.close()
    await expect(createDatumDb(dir, "leveldb")).rejects.toThrow(/ldb: already exists/)
    await expect(openDatumDb(path.join(tmp, "nope"), "leveldb")).rejects.toThrow(/nope: no such LevelDB/)
  })

  it("backend names follow Caffe (LEVELDB default)", () => {
    expect(parseBackend(undefined)).toBe("leveldb")
    expect(parseBackend("LMDB")).toBe("lmdb")
    expect(() => parseBackend("rocks")).toThrow(/expected LMDB or LEVELDB/)
  })
})

