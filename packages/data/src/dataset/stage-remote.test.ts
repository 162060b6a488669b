import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { encodeDatum } from "../datum.js"
import { keyText } from "../db/datum-db.js"
import { openLmdb } from "../db/lmdb-reader.js"
import { createLmdb } from "../db/lmdb-writer.js"
import { createLevelDb, openLevelDb } from "../db/leveldb.js"
import { Dataset } from "./dataset.js"
import type { StagingRef } from "./stage-remote-server.js"
import { partitionServer } from "./stage-remote-server.js"
import type { StagingFetcher } from "./stage-remote.js"
import { remoteStager, stageRemotePartition } from "./stage-remote.js"
import { partitionManifest } from "./verify.js"

const root = mkdtempSync(path.join(os.tmpdir(), "deepspark-stage-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

// 300 Datums of 3×4×4 bytes, keys %08d like Caffe's converters.
const RECORDS = 300
{
  const db = createLmdb(path.join(root, "src_lmdb"))
  for (let i = 0; i < RECORDS; i++) {
    const data = new Uint8Array(48).map((_, j) => (i * 7 + j) & 0xff)
    db.putSync(String(i).padStart(8, "0"), encodeDatum({ channels: 3, height: 4, width: 4, data, label: i % 10 }))
  }
  await db.close()
}

const server = partitionServer({ root })
afterAll(() => server.close())
const ref: StagingRef = { source: "src_lmdb", backend: "lmdb", index: 1, count: 3, mode: "range" }

/** The partition as the Data layer would read it: Dataset.partition over the source. */
const sourcePartition = async () => {
  const whole = await Dataset.lmdb(path.join(root, "src_lmdb"))
  const raw = openLmdb(path.join(root, "src_lmdb"))
  const part = whole.partition(3)[1]!
  const records = Array.from({ length: part.size }, (_, i) => ({ key: part.keyAt(i), value: Buffer.from(raw.get(part.keyAt(i))!) }))
  await whole.close()
  await raw.close()
  return { records, manifest: partitionManifest(part) }
}

const readLmdb = async (dir: string) => {
  const db = openLmdb(dir)
  const out = [...db.range()].map((r) => ({ key: keyText(r.key), value: Buffer.from(r.value) }))
  await db.close()
  return out
}

/** A fetcher over the server that counts chunks, and may fail after `failAfter` of them or damage one. */
const fetcher = (o: { failAfter?: number; damageChunk?: number; lieAboutChecksum?: boolean } = {}) => {
  const stats = { chunks: 0, froms: [] as Array<number> }
  const f: StagingFetcher<Error> = {
    manifest: (r) =>
      Effect.tryPromise({ try: () => server.manifest(r), catch: (e) => e as Error }).pipe(Effect.map((m) => (o.lieAboutChecksum ? { ...m, sha256: "0".repeat(64) } : m))),
    chunk: (r, from, maxBytes) =>
      Effect.gen(function* () {
        if (o.failAfter !== undefined && stats.chunks >= o.failAfter) return yield* Effect.fail(new Error("connection reset"))
        const c = yield* Effect.tryPromise({ try: () => server.chunk(r, from, maxBytes), catch: (e) => e as Error })
        stats.chunks++
        stats.froms.push(from)
        if (o.damageChunk === stats.chunks) {
          const v = Uint8Array.from(c.values[0]!)
          v[v.length - 1]! ^= 1
          return { ...c, values: [v, ...c.values.slice(1)] }
        }
        return c
      })
  }
  return { f, stats }
}

// ~70 bytes a record → 10 records a chunk: the 100-record partition takes 10 chunks.
const CHUNK = 10 * 78

const stage = (target: string, f: StagingFetcher<Error>) =>
  Effect.runPromise(stageRemotePartition({ fetcher: f, worker: "w1", ref, target, chunkBytes: CHUNK }).pipe(Effect.either))

describe("remote staging of a partition into a local LMDB", () => {
  it("stages, equals the source partition record for record, and a second call returns at once", async () => {
    const target = path.join(root, "a_lmdb")
    const { f, stats } = fetcher()
    const out = await stage(target, f)
    if (out._tag === "Left") throw out.left
    const { records, manifest } = await sourcePartition()
    expect(records.length).toBe(100)
    expect(out.right.manifest).toMatchObject({ count: manifest.count, firstKey: manifest.firstKey, lastKey: manifest.lastKey })
    expect(out.right.manifest.partition).toBe("src_lmdb#range-1-of-3")
    expect(stats.chunks).toBe(out.right.fetchedChunks)
    expect(stats.chunks).toBeGreaterThan(5)
    expect(await readLmdb(target)).toEqual(records)
    expect(existsSync(path.join(target, "data.mdb")) && existsSync(path.join(target, "lock.mdb"))).toBe(true)
    expect(existsSync(`${target}.staging`) || existsSync(`${target}.building`)).toBe(false)

    const again = fetcher({ failAfter: 0 })
    const second = await stage(target, again.f)
    if (second._tag === "Left") throw second.left
    expect(second.right.alreadyStaged).toBe(true)
    expect(again.stats.chunks).toBe(0)
  })

  it("an interrupted transfer (and a torn last write) resumes without re-fetching completed chunks", async () => {
    const target = path.join(root, "b_lmdb")
    const first = fetcher({ failAfter: 4 })
    const broken = await stage(target, first.f)
    expect(broken._tag).toBe("Left")
    if (broken._tag === "Left") expect(broken.left.message).toMatch(/range partition 1\/3 of src_lmdb.*after 4 chunk\(s\) \(40 of 100 records staged.*connection reset/)
    expect(existsSync(target)).toBe(false)
    // A crash in the middle of appending the fifth block leaves part of it behind.
    appendFileSync(`${target}.staging`, Buffer.from([0x43, 0x48, 0x4e, 0x4b, 0, 0, 0, 40, 0, 0]))

    const second = fetcher()
    const out = await stage(target, second.f)
    if (out._tag === "Left") throw out.left
    expect(out.right.resumedFrom).toBe(40)
    expect(second.stats.froms[0]).toBe(40)
    expect(first.stats.chunks + second.stats.chunks).toBe(10)
    expect(await readLmdb(target)).toEqual((await sourcePartition()).records)
  })

  it("corrupt staging data is reported, cut back, and the next call resumes from the good records", async () => {
    const target = path.join(root, "c_lmdb")
    await stage(target, fetcher({ failAfter: 5 }).f)
    const file = `${target}.staging`
    const bytes = readFileSync(file)
    bytes[bytes.length - 100]! ^= 0xff // inside the fifth block's records
    writeFileSync(file, bytes)
    const bad = await stage(target, fetcher().f)
    expect(bad._tag).toBe("Left")
    if (bad._tag === "Left") expect(bad.left.message).toMatch(/staging file .*c_lmdb\.staging is corrupt .*after record 40.*SHA-256 does not match.*resumes there/)
    const next = fetcher()
    const out = await stage(target, next.f)
    if (out._tag === "Left") throw out.left
    expect(next.stats.froms[0]).toBe(40)
    expect(await readLmdb(target)).toEqual((await sourcePartition()).records)
  })

  it("a chunk damaged in transit and a manifest checksum that does not match are clear errors", async () => {
    const damaged = await stage(path.join(root, "d_lmdb"), fetcher({ damageChunk: 3 }).f)
    expect(damaged._tag === "Left" && damaged.left.message).toMatch(/chunk at record 20 does not match its SHA-256/)

    const target = path.join(root, "e_lmdb")
    const lie = await stage(target, fetcher({ lieAboutChecksum: true }).f)
    expect(lie._tag === "Left" && lie.left.message).toMatch(/checksum mismatch: the 100 staged records .* hash to [0-9a-f]{64}, the server's manifest says 0{64}.*starts over/)
    expect(existsSync(`${target}.staging`) || existsSync(target)).toBe(false)
  })

  it("remoteStager: the driver's manifest names the partition and must agree with the server's", async () => {
    const { manifest } = await sourcePartition()
    const stager = remoteStager(fetcher().f, { backend: "lmdb", chunkBytes: 4096 })
    const plan = { ...manifest, partition: "src_lmdb#range-1-of-3" }
    const ok = await Effect.runPromise(stager.stage("w1", plan, path.join(root, "f_lmdb")))
    expect(ok.manifest.count).toBe(100)
    const wrong = await Effect.runPromise(stager.stage("w1", { ...plan, count: 99 }, path.join(root, "g_lmdb")).pipe(Effect.flip))
    expect(wrong.message).toMatch(/disagrees with the plan: count 100, the plan says 99/)
    const missing = await Effect.runPromise(stager.stage("w1", { ...plan, partition: "nope_lmdb#range-0-of-2" }, path.join(root, "h_lmdb")).pipe(Effect.flip))
    expect(missing.message).toMatch(/range partition 0\/2 of nope_lmdb.*cannot open lmdb database "nope_lmdb"/)
  })

  it("a hash partition of a LevelDB becomes an LMDB with the same records in key order", async () => {
    const ldb = await createLevelDb(path.join(root, "src_leveldb"))
    for (let i = 0; i < 120; i++) await ldb.put(`k${String(i).padStart(4, "0")}`, Uint8Array.from([i, i + 1, i + 2]))
    await ldb.close()
    // The expected records first: the server then keeps the LevelDB open (and locked) while it serves.
    const src = await openLevelDb(path.join(root, "src_leveldb"))
    const keys = [...src.keys()].map((k) => keyText(k))
    const part = new Dataset({ name: "l", size: keys.length, keyAt: (i) => keys[i]!, at: () => 0 }).partition(2, { mode: "hash" })[0]!
    const expected = Array.from({ length: part.size }, (_, i) => ({ key: part.keyAt(i), value: Buffer.from(src.get(part.keyAt(i))!) }))
    await src.close()
    const hashRef: StagingRef = { source: "src_leveldb", backend: "leveldb", index: 0, count: 2, mode: "hash" }
    const target = path.join(root, "i_lmdb")
    const out = await Effect.runPromise(stageRemotePartition({ fetcher: fetcher().f, worker: "w0", ref: hashRef, target, chunkBytes: 64 }))
    expect(out.manifest.partition).toBe("src_leveldb#hash-0-of-2")
    expect(expected.length).toBeGreaterThan(30)
    expect(await readLmdb(target)).toEqual(expected)
  })
})
