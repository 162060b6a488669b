import { encodeDatum } from "@deepspark/caffe"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createLmdb } from "../src/db/lmdb-writer.js"
import { openPartitionBatchSource, type PartitionSpec } from "../src/partition-source.js"
import { SeededRng } from "../src/rng.js"

/**
 * Elastic runs: a worker reads the record range [from, to) of the database's key order that the center
 * assigned (PartitionSpec.records), from its start, wrapping at its end; `position()` counts what it read.
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-records-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const N = 23

beforeAll(async () => {
  const w = createLmdb(path.join(tmp, "db"))
  // 1×1×1 records whose one pixel is their index in key order.
  for (let i = 0; i < N; i++) w.putSync(`k${String(i).padStart(4, "0")}`, encodeDatum({ channels: 1, height: 1, width: 1, data: Uint8Array.of(i), label: 0 }))
  await w.close()
})

const open = (records: PartitionSpec["records"], cursor?: string) =>
  openPartitionBatchSource({
    dataParam: { source: "db", batch_size: 4, backend: "LMDB", prefetch: 1 },
    phase: "TEST",
    rng: new SeededRng(1),
    baseDir: tmp,
    partition: { index: 0, count: 1, mode: "range", ...(records ? { records } : {}) },
    ...(cursor !== undefined ? { cursor } : {}),
    layer: "data"
  })

const batch = (src: { next(d: Float32Array, l: Float32Array): void }) => {
  const d = new Float32Array(4)
  src.next(d, new Float32Array(4))
  return [...d]
}

describe("an assigned record range", () => {
  it("reads exactly [from, to) in key order, wraps at its end, and reports the database's size", async () => {
    const src = await open({ from: 5, to: 11 })
    try {
      expect(src.databaseSize).toBe(N)
      expect(src.records.size).toBe(6)
      expect(batch(src)).toEqual([5, 6, 7, 8])
      expect(batch(src)).toEqual([9, 10, 5, 6])
      expect(src.position()).toMatchObject({ epoch: 1, position: 2 })
      // A cursor of the range resumes it; one of another range is refused.
      const cursor = src.cursor()
      const again = await open({ from: 5, to: 11 }, cursor)
      expect(batch(again)).toEqual([7, 8, 9, 10])
      await again.close()
      await expect(open({ from: 5, to: 12 }, cursor)).rejects.toThrow(/cursor is for partition/)
    } finally {
      await src.close()
    }
  })

  it("a range outside the database is refused, naming it", async () => {
    await expect(open({ from: 20, to: 30 })).rejects.toThrow(/assigned records \[20, 30\) are not within .*db's 23 records/)
    await expect(open({ from: 4, to: 4 })).rejects.toThrow(/assigned records \[4, 4\)/)
  })
})
