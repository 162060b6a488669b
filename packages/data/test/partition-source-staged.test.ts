import { encodeDatum } from "@deepspark/caffe"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { partitionServer } from "../src/dataset/stage-remote-server.js"
import { stageRemotePartition } from "../src/dataset/stage-remote.js"
import { createLmdb } from "../src/db/lmdb-writer.js"
import { openPartitionBatchSource, type PartitionBatchSource, type PartitionSpec } from "../src/partition-source.js"
import { SeededRng } from "../src/rng.js"

/**
 * A worker that trains on a staged copy of its partition (`staged`) must be indistinguishable from one
 * that reads the shared database directly: same batches, and the same cursors, so a cursor the center
 * saved from either resumes the other.
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-ps-staged-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const N = 37
const spec: PartitionSpec = { index: 1, count: 3, mode: "range" }
const staged = path.join(tmp, "staged", "db.part-1-of-3")

beforeAll(async () => {
  const w = createLmdb(path.join(tmp, "db"))
  // 1×3×3 records whose pixels identify them (record i: 9i … 9i+8 mod 256), label i mod 10
  for (let i = 0; i < N; i++) {
    const data = Uint8Array.from({ length: 9 }, (_, j) => (9 * i + j) & 0xff)
    w.putSync(`k${String(i).padStart(4, "0")}`, encodeDatum({ channels: 1, height: 3, width: 3, data, label: i % 10 }))
  }
  await w.close()
  mkdirSync(path.dirname(staged))
  // Staged as a worker does it: streamed from a partition server into a verified LMDB.
  const server = partitionServer({ root: tmp })
  await Effect.runPromise(
    stageRemotePartition({
      fetcher: {
        manifest: (r) => Effect.promise(() => server.manifest(r)),
        chunk: (r, from, maxBytes) => Effect.promise(() => server.chunk(r, from, maxBytes))
      },
      worker: "w1",
      ref: { source: "db", backend: "lmdb", index: spec.index, count: spec.count, mode: spec.mode },
      target: staged,
      chunkBytes: 100
    })
  )
  await server.close()
})

const open = (options: { staged?: string; cursor?: string }) =>
  openPartitionBatchSource({
    dataParam: { source: "db", batch_size: 4, backend: "LMDB", prefetch: 2 },
    // crop and mirror draw from the transformer's generator, whose state is part of the cursor
    transformParam: { crop_size: 2, mirror: true, scale: 0.5 },
    phase: "TRAIN",
    rng: new SeededRng(7),
    baseDir: tmp,
    partition: spec,
    layer: "mnist",
    ...(options.staged !== undefined ? { staged: options.staged } : {}),
    ...(options.cursor !== undefined ? { cursor: options.cursor } : {})
  })

const take = (src: PartitionBatchSource, batches: number) => {
  const data = new Float32Array(4 * 4)
  const label = new Float32Array(4)
  const out: Array<Array<number>> = []
  for (let b = 0; b < batches; b++) {
    src.next(data, label)
    out.push([...data, ...label])
  }
  return out
}
const tick = () => new Promise((r) => setImmediate(r))

describe("openPartitionBatchSource on a staged copy of the partition", () => {
  it("reads the staged LMDB whole: the same records and batches as partition 1/3 of the shared database", async () => {
    const direct = await open({})
    const copy = await open({ staged })
    expect(copy.records.size).toBe(direct.records.size)
    expect(copy.records.size).toBe(Math.floor((2 * N) / 3) - Math.floor(N / 3))
    expect(copy.records.keyAt(0)).toBe(direct.records.keyAt(0))
    expect(copy.records.keyAt(copy.records.size - 1)).toBe(direct.records.keyAt(direct.records.size - 1))
    expect(copy.source).toMatch(/range partition 1 of 3 of .*db \(staged at .*db\.part-1-of-3\)/)
    // past the end of the partition: both wrap at the same place
    expect(take(copy, 5)).toEqual(take(direct, 5))
    await direct.close()
    await copy.close()
  })

  it("cursors agree: a cursor saved on the staged copy resumes a direct read, and vice versa", async () => {
    const direct = await open({})
    const copy = await open({ staged })
    take(direct, 3)
    take(copy, 3)
    await tick() // let the read-ahead run: the cursor must not count prefetched records
    const fromDirect = direct.cursor()
    const fromCopy = copy.cursor()
    expect(fromCopy).toBe(fromDirect)
    expect(JSON.parse(fromCopy)).toMatchObject({ partition: spec, size: copy.records.size, position: 12 })
    const expected = take(direct, 4)
    await direct.close()
    await copy.close()

    const copyResumed = await open({ staged, cursor: fromDirect })
    const directResumed = await open({ cursor: fromCopy })
    expect(take(copyResumed, 4)).toEqual(expected)
    expect(take(directResumed, 4)).toEqual(expected)
    await copyResumed.close()
    await directResumed.close()
  })

  it("refuses a cursor of another partition, naming the layer", async () => {
    const other = await openPartitionBatchSource({
      dataParam: { source: "db", batch_size: 4, backend: "LMDB" },
      phase: "TRAIN",
      rng: new SeededRng(7),
      baseDir: tmp,
      partition: { index: 0, count: 3, mode: "range" }
    })
    const cursor = other.cursor()
    await other.close()
    await expect(open({ staged, cursor })).rejects.toThrow(/layer "mnist": cursor is for partition 0 of 3 \(range\), this source reads partition 1 of 3/)
  })
})
