import { encodeDatum, type NetParameter } from "@deepspark/caffe"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Rng } from "../core/rng.js"
import { openPartitionNetDataSources } from "./partition-data-sources.js"

/** A worker's Data layer reading a staged copy of its partition (`staged`, by layer name). */
const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-pnds-staged-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

beforeAll(async () => {
  const { createLmdb, Dataset, writePartitionLmdb } = await import("@deepspark/data")
  const w = createLmdb(path.join(tmp, "db"))
  for (let i = 0; i < 10; i++) w.putSync(String(i).padStart(3, "0"), encodeDatum({ channels: 1, height: 1, width: 2, data: Uint8Array.from([2 * i, 2 * i + 1]), label: i }))
  await w.close()
  const whole = await Dataset.lmdb(path.join(tmp, "db"))
  await writePartitionLmdb(whole.partition(2)[1]!, path.join(tmp, "local", "db.part-1-of-2"))
  await whole.close()
})

const net: NetParameter = {
  name: "feed",
  layer: [{ name: "mnist", type: "Data", top: ["data", "label"], data_param: { source: "db", batch_size: 2, backend: "LMDB", prefetch: 2 } }]
}
const open = (staged?: Record<string, string>, cursors?: Record<string, string>) =>
  openPartitionNetDataSources(net, {
    state: { phase: "TRAIN" },
    rng: new Rng(2),
    baseDir: tmp,
    partition: { index: 1, count: 2, mode: "range" },
    ...(staged ? { staged } : {}),
    ...(cursors ? { cursors } : {})
  })

describe("openPartitionNetDataSources with staged partitions", () => {
  it("the layer reads the staged LMDB (relative to baseDir) and reports the direct read's cursor", async () => {
    const direct = await open()
    const copy = await open({ mnist: "local/db.part-1-of-2" })
    const [d, c] = [direct.partitionSources[0]!.source, copy.partitionSources[0]!.source]
    expect(c.source).toMatch(/staged at .*local\/db\.part-1-of-2/)
    expect(c.records.size).toBe(5)
    const data = new Float32Array(4)
    const labels = new Float32Array(2)
    const read = (s: typeof d) => (s.next(data, labels), Array.from(labels))
    for (let b = 0; b < 3; b++) expect(read(c)).toEqual(read(d))
    expect(copy.cursors()).toEqual(direct.cursors())
    const cursors = copy.cursors()
    await direct.close()
    await copy.close()
    const resumed = await open(undefined, cursors)
    // partition 1 = records 5…9: three batches were (5,6) (7,8) (9,5)
    expect(read(resumed.partitionSources[0]!.source)).toEqual([6, 7])
    await resumed.close()
  })

  it("refuses a staged partition for a layer the net does not have", async () => {
    await expect(open({ images: "local/db.part-1-of-2" })).rejects.toThrow(/staged partitions given for "images", which are not Data layers of this net \(have: "mnist"\)/)
  })
})
