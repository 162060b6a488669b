import { Chunk, Effect, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Dataset } from "../src/dataset/dataset.js"
import { localStager } from "../src/dataset/stage.js"
import { partitionManifest, verifyPartition } from "../src/dataset/verify.js"
import { openDatumDb } from "../src/db/open.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-ds-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const records = Array.from({ length: 103 }, (_, i) => ({ key: `k${String(i).padStart(4, "0")}`, value: i }))
const ds = Dataset.memory(records, "mem")
const keysOf = <A>(d: Dataset<A>) => Array.from({ length: d.size }, (_, i) => d.keyAt(i))

describe("partitions", () => {
  for (const mode of ["range", "hash"] as const) {
    it(`${mode}: union is the dataset, no overlap, same plan every time`, () => {
      const parts = ds.partition(4, { mode })
      expect(parts.length).toBe(4)
      const all = parts.flatMap(keysOf)
      expect(new Set(all).size).toBe(all.length)
      expect([...all].sort()).toEqual(keysOf(ds))
      for (const p of parts) expect(keysOf(p)).toEqual([...keysOf(p)].sort()) // key order inside
      expect(ds.partition(4, { mode }).map(keysOf)).toEqual(parts.map(keysOf))
      if (mode === "range") expect(parts.map((p) => p.size)).toEqual([25, 26, 26, 26])
      else expect(Math.min(...parts.map((p) => p.size))).toBeGreaterThan(10)
    })
  }

  it("range partitions are contiguous blocks; map keeps keys", () => {
    const [p0, p1] = ds.partition(2)
    expect(p0!.keyAt(0)).toBe("k0000")
    expect(p1!.keyAt(0)).toBe("k0051")
    const doubled = p1!.map((v) => v * 2)
    expect([doubled.keyAt(1), doubled.at(1)]).toEqual(["k0052", 104])
    expect(() => ds.partition(0)).toThrow(/mem: cannot split into 0 partitions/)
  })
})

describe("epoch reader and cursor", () => {
  it("shuffles each epoch differently, stable under the seed", () => {
    const a = ds.reader({ shuffle: true, seed: 7 })
    const b = ds.reader({ shuffle: true, seed: 7 })
    const e0 = Array.from({ length: 103 }, () => a.next())
    const e1 = Array.from({ length: 103 }, () => a.next())
    expect(Array.from({ length: 103 }, () => b.next())).toEqual(e0)
    expect([...e0].sort((x, y) => x - y)).toEqual(records.map((r) => r.value))
    expect(e1).not.toEqual(e0)
    expect([...e1].sort((x, y) => x - y)).toEqual(records.map((r) => r.value))
    const c = ds.reader({ shuffle: true, seed: 8 })
    expect(Array.from({ length: 103 }, () => c.next())).not.toEqual(e0)
    expect(a.cursor()).toEqual({ epoch: 1, position: 103, seed: 7, shuffle: true })
  })

  it("a saved cursor resumes exactly (mid-epoch and across epochs)", () => {
    const part = ds.partition(3, { mode: "hash" })[1]!
    const full = part.reader({ shuffle: true, seed: 42 })
    const stream = Array.from({ length: part.size * 3 }, () => full.next())
    for (const stop of [0, 5, part.size, part.size + 17]) {
      const r = part.reader({ shuffle: true, seed: 42 })
      for (let i = 0; i < stop; i++) r.next()
      const saved = JSON.parse(JSON.stringify(r.cursor()))
      const resumed = part.reader({ cursor: saved })
      expect(Array.from({ length: 40 }, () => resumed.next())).toEqual(stream.slice(stop, stop + 40))
    }
  })

  it("batches stream with prefetch, across epochs, ending after `epochs`; cursors resume the next batch", async () => {
    const batches = await Effect.runPromise(Stream.runCollect(ds.batches(40, { epochs: 2, prefetch: 2, shuffle: true, seed: 1 })))
    const list = Chunk.toReadonlyArray(batches)
    expect(list.map((b) => b.records.length)).toEqual([40, 40, 40, 40, 40, 6])
    expect(list[2]!.keys.length).toBe(40)
    const resumed = await Effect.runPromise(
      Stream.runCollect(Stream.take(ds.batches(40, { cursor: list[1]!.cursor, epochs: 2 }), 1))
    )
    expect(Chunk.unsafeHead(resumed).records).toEqual(list[2]!.records)
  })
})

describe("placement verification and staging", () => {
  it("verifyPartition reports count and first/last key; mismatches name the worker and partition", async () => {
    const parts = ds.partition(2)
    const report = await Effect.runPromise(verifyPartition("worker-1", parts[1]!, partitionManifest(parts[1]!)))
    expect(report).toEqual({ partition: "mem#range-1-of-2", count: 52, firstKey: "k0051", lastKey: "k0102" })
    const err = await Effect.runPromise(Effect.flip(verifyPartition("worker-2", parts[0]!, partitionManifest(parts[1]!))))
    expect(err._tag).toBe("PartitionError")
    expect(err.message).toBe('worker "worker-2" cannot use partition "mem#range-1-of-2": it holds 51 records, expected 52')
    const broken = Dataset.fromSource({ name: "bad", size: 2, keyAt: (i) => `b${i}`, at: () => { throw new Error("disk read failed") } })
    const err2 = await Effect.runPromise(Effect.flip(verifyPartition("w9", broken)))
    expect(err2.message).toBe('worker "w9" cannot read partition "bad": disk read failed')
  })

  it("localStager writes a partition as an LMDB that verifies", async () => {
    const mnist = Dataset.mnist("test")
    const parts = mnist.partition(4, { mode: "hash" })
    const manifest = partitionManifest(parts[2]!)
    const staged = await Effect.runPromise(localStager(parts).stage("w2", manifest, path.join(tmp, "part2_lmdb")))
    const local = await Dataset.lmdb(staged.path)
    const report = await Effect.runPromise(verifyPartition("w2", local, manifest))
    expect(report.count).toBe(parts[2]!.size)
    expect(local.at(3)).toEqual(parts[2]!.at(3))
    await local.close()
    const db = await openDatumDb(staged.path, "lmdb")
    expect(db.count()).toBe(manifest.count)
    await db.close()
    const missing = await Effect.runPromise(Effect.flip(localStager([]).stage("w3", manifest, path.join(tmp, "p"))))
    expect(missing.message).toMatch(/cannot stage partition ".*#hash-2-of-4" for worker "w3"/)
  })
})
