import { encodeDatum } from "@deepspark/caffe"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openBatchSource } from "../src/batch-source.js"
import { hashKey } from "../src/dataset/dataset.js"
import { createLmdb } from "../src/db/lmdb-writer.js"
import type { PartitionSpec } from "../src/partition-source.js"
import { openPartitionBatchSource, partitionSourceManifest, verifyPartitionSource } from "../src/partition-source.js"
import { SeededRng } from "../src/rng.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-ps-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const N = 23
const db = path.join(tmp, "db")
const key = (i: number) => `k${String(i).padStart(4, "0")}`

beforeAll(async () => {
  const w = createLmdb(db)
  // 1×3×3 records whose pixels identify them (record i: 9i … 9i+8), label i mod 10
  for (let i = 0; i < N; i++) {
    const data = Uint8Array.from({ length: 9 }, (_, j) => 9 * i + j)
    w.putSync(key(i), encodeDatum({ channels: 1, height: 3, width: 3, data, label: i % 10 }))
  }
  await w.close()
})

const dataParam = (batch: number) => ({ source: "db", batch_size: batch, backend: "LMDB" as const, prefetch: 2 })
const open = (partition: PartitionSpec, batch: number, extra: { cursor?: string; shuffle?: boolean; train?: boolean } = {}) =>
  openPartitionBatchSource({
    dataParam: dataParam(batch),
    ...(extra.train ? { transformParam: { crop_size: 2, mirror: true, scale: 0.5 } } : {}),
    phase: extra.train ? "TRAIN" : "TEST",
    rng: new SeededRng(7),
    baseDir: tmp,
    partition,
    ...(extra.shuffle ? { shuffle: true, seed: 3 } : {}),
    ...(extra.cursor !== undefined ? { cursor: extra.cursor } : {}),
    layer: "mnist"
  })

/** Record ids (first pixel / 9) of the next `batches` batches. */
const take = (src: { next(d: Float32Array, l: Float32Array): void }, batch: number, batches: number, item = 9) => {
  const data = new Float32Array(batch * item)
  const label = new Float32Array(batch)
  const out: Array<{ data: Float32Array; label: Float32Array }> = []
  for (let b = 0; b < batches; b++) {
    src.next(data, label)
    out.push({ data: Float32Array.from(data), label: Float32Array.from(label) })
  }
  return out
}
const ids = (batches: ReadonlyArray<{ data: Float32Array }>) => batches.flatMap((b) => Array.from({ length: b.data.length / 9 }, (_, i) => b.data[i * 9]! / 9))
const tick = () => new Promise((r) => setImmediate(r))

describe("openPartitionBatchSource", () => {
  it("range partitions: contiguous key blocks [⌊kn/N⌋, ⌊(k+1)n/N⌋) whose union is the database, batches equal to the plain source's records", async () => {
    const plain = await openBatchSource({ dataParam: dataParam(1), phase: "TEST", rng: new SeededRng(1), baseDir: tmp })
    const all = take(plain, 1, N)
    await plain.close()
    const seen: Array<number> = []
    for (let k = 0; k < 4; k++) {
      const src = await open({ index: k, count: 4, mode: "range" }, 2)
      const lo = Math.floor((k * N) / 4)
      const hi = Math.floor(((k + 1) * N) / 4)
      expect(src.records.size).toBe(hi - lo)
      expect(src.shape).toEqual({ data: [2, 1, 3, 3], label: [2] })
      // two passes over the partition, wrapping at its end (not the database's)
      const got = take(src, 2, hi - lo)
      const want = Array.from({ length: 2 * (hi - lo) }, (_, j) => lo + (j % (hi - lo)))
      expect(ids(got)).toEqual(want)
      got.forEach((b, bi) =>
        [0, 1].forEach((i) => {
          const rec = all[want[bi * 2 + i]!]!
          expect(Array.from(b.data.subarray(i * 9, i * 9 + 9))).toEqual(Array.from(rec.data))
          expect(b.label[i]).toBe(rec.label[0])
        })
      )
      seen.push(...want.slice(0, hi - lo))
      await src.close()
    }
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i))
  })

  it("hash partitions: key hash mod count, in key order; disjoint, union = database", async () => {
    const seen: Array<number> = []
    for (let k = 0; k < 3; k++) {
      const src = await open({ index: k, count: 3, mode: "hash" }, 1)
      const want = Array.from({ length: N }, (_, i) => i).filter((i) => hashKey(key(i)) % 3 === k)
      expect(ids(take(src, 1, want.length))).toEqual(want)
      seen.push(...want)
      await src.close()
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i))
  })

  it("a source restored from cursor() yields exactly the next batches (mid-epoch and across the wrap; shuffle, random crop and mirror)", async () => {
    const spec: PartitionSpec = { index: 1, count: 2, mode: "range" } // records 11..22 (12 of them)
    for (const cut of [2, 5]) {
      // batch 5: 12 records, so batches 0..2 are epoch 0 and the cut at 5 sits in epoch 1 after a wrap
      const a = await open(spec, 4, { shuffle: true, train: true })
      take(a, 4, cut, 4)
      await tick() // let read-ahead run past the cut
      const saved = a.cursor()
      const parsed = JSON.parse(saved)
      expect(parsed).toMatchObject({ epoch: cut === 2 ? 0 : 1, position: cut === 2 ? 8 : 8, seed: 3, shuffle: true, partition: spec, size: 12 })
      const want = take(a, 4, 4, 4)
      await a.close()
      const b = await open(spec, 4, { cursor: saved, train: true })
      const got = take(b, 4, 4, 4)
      expect(got.map((x) => Array.from(x.data))).toEqual(want.map((x) => Array.from(x.data)))
      expect(got.map((x) => Array.from(x.label))).toEqual(want.map((x) => Array.from(x.label)))
      await b.close()
    }
    // the shuffled epochs are permutations of the partition (crop 2 of 3×3 keeps the record's identity in its labels)
    const c = await open(spec, 12, { shuffle: true, train: true })
    const epoch = take(c, 12, 2, 4)
    for (const e of epoch) expect(Array.from(e.label).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2].sort((x, y) => x - y))
    expect(Array.from(epoch[0]!.label)).not.toEqual(Array.from(epoch[1]!.label))
    await c.close()
  })

  it("rejects a cursor of another partition, a bad partition spec and an empty partition, naming the layer", async () => {
    const a = await open({ index: 0, count: 2, mode: "range" }, 3)
    const saved = a.cursor()
    await a.close()
    await expect(open({ index: 1, count: 2, mode: "range" }, 3, { cursor: saved })).rejects.toThrow(
      /layer "mnist": cursor is for partition 0 of 2 \(range\), this source reads partition 1 of 2 \(range\)/
    )
    await expect(open({ index: 0, count: 2, mode: "range" }, 3, { cursor: "{nope" })).rejects.toThrow(/layer "mnist": cannot resume from cursor \{nope: not JSON/)
    await expect(open({ index: 2, count: 2, mode: "range" }, 3)).rejects.toThrow(/layer "mnist": partition .* \(expected integers 0 ≤ index < count/)
    await expect(open({ index: 30, count: 40, mode: "range" }, 3)).rejects.toThrow(/range partition 30 of 40 of .*db has no records \(the database holds 23\)/)
  })

  it("verifyPartitionSource: count and first/last key; a mismatch names the worker and the partition", async () => {
    const a = await open({ index: 0, count: 4, mode: "range" }, 1)
    const b = await open({ index: 1, count: 4, mode: "range" }, 1)
    const ok = await Effect.runPromise(verifyPartitionSource(a, "worker-0", partitionSourceManifest(a)))
    expect(ok).toMatchObject({ count: 5, firstKey: key(0), lastKey: key(4) })
    const err = await Effect.runPromise(Effect.flip(verifyPartitionSource(a, "worker-3", partitionSourceManifest(b))))
    expect(err._tag).toBe("PartitionError")
    expect(err.message).toMatch(/worker "worker-3" cannot use partition ".*range-1-of-4": it holds 5 records, expected 6/)
    await a.close()
    await b.close()
  })
})
