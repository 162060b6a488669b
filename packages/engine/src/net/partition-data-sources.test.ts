import { encodeDatum, type NetParameter } from "@deepspark/caffe"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DATA_SOURCE_FACTORY } from "../layers/data.js"
import { Rng } from "../core/rng.js"
import { Net } from "./net.js"
import { openNetDataSources } from "./data-sources.js"
import { openPartitionNetDataSources } from "./partition-data-sources.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-pnds-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const N = 10

beforeAll(async () => {
  const { createLmdb } = await import("@deepspark/data")
  const w = createLmdb(path.join(tmp, "db"))
  // record i: pixels (2i, 2i + 1), label i
  for (let i = 0; i < N; i++) w.putSync(String(i).padStart(3, "0"), encodeDatum({ channels: 1, height: 1, width: 2, data: Uint8Array.from([2 * i, 2 * i + 1]), label: i }))
  await w.close()
})

const net: NetParameter = {
  name: "feed",
  layer: [{ name: "mnist", type: "Data", top: ["data", "label"], data_param: { source: "db", batch_size: 2, backend: "LMDB", prefetch: 2 } }]
}
const labels = (n: Net) => Array.from(n.blobByName("label")!.data.subarray(0, 2))
const build = (factory: unknown) => new Net(net, { state: { phase: "TRAIN" }, services: { [DATA_SOURCE_FACTORY]: factory }, rng: new Rng(1) })
const tick = () => new Promise((r) => setImmediate(r))

describe("openPartitionNetDataSources", () => {
  it("each worker's Data layer reads its range of the database, wrapping in it; the union is the plain source's records", async () => {
    const plain = await openNetDataSources(net, { state: { phase: "TRAIN" }, rng: new Rng(2), baseDir: tmp })
    const p = build(plain.factory)
    const all: number[] = []
    for (let b = 0; b < N / 2; b++) {
      p.forward()
      all.push(...labels(p))
    }
    await plain.close()
    const seen: number[] = []
    for (let k = 0; k < 2; k++) {
      const part = await openPartitionNetDataSources(net, { state: { phase: "TRAIN" }, rng: new Rng(2), baseDir: tmp, partition: { index: k, count: 2, mode: "range" } })
      const n = build(part.factory)
      const got: number[] = []
      for (let b = 0; b < 5; b++) {
        n.forward()
        got.push(...labels(n))
      }
      // partition k = records [5k, 5k + 5), twice
      const want = [...all.slice(5 * k, 5 * k + 5), ...all.slice(5 * k, 5 * k + 5)]
      expect(got).toEqual(want)
      expect(Array.from(n.blobByName("data")!.data.subarray(0, 4))).toEqual([2 * want[8]!, 2 * want[8]! + 1, 2 * want[9]!, 2 * want[9]! + 1])
      seen.push(...got.slice(0, 5))
      await part.close()
    }
    expect(seen).toEqual(all)
  })

  it("cursors() by layer name restore a net's feed exactly (shuffled, across an epoch boundary); unknown layers in cursors fail", async () => {
    const options = { state: { phase: "TRAIN" as const }, rng: new Rng(3), baseDir: tmp, partition: { index: 1, count: 3, mode: "hash" as const }, shuffle: true, seed: 9 }
    const a = await openPartitionNetDataSources(net, options)
    const size = a.partitionSources[0]!.source.records.size
    const na = build(a.factory)
    expect(size).toBeGreaterThanOrEqual(3)
    const batches = Math.floor(size / 2) + 1 // past the first epoch's end, inside the second
    for (let b = 0; b < batches; b++) na.forward()
    await tick()
    const saved = a.cursors()
    expect(Object.keys(saved)).toEqual(["mnist"])
    expect(JSON.parse(saved.mnist!)).toMatchObject({ epoch: 1, position: 2 * batches - size, seed: 9, shuffle: true, partition: options.partition })
    const want: number[] = []
    for (let b = 0; b < 3; b++) {
      na.forward()
      want.push(...labels(na))
    }
    await a.close()
    const r = await openPartitionNetDataSources(net, { ...options, rng: new Rng(77), cursors: saved })
    const nr = build(r.factory)
    const got: number[] = []
    for (let b = 0; b < 3; b++) {
      nr.forward()
      got.push(...labels(nr))
    }
    expect(got).toEqual(want)
    await r.close()
    await expect(openPartitionNetDataSources(net, { ...options, cursors: { ...saved, other: saved.mnist! } })).rejects.toThrow(
      /cursors given for "other", which are not Data layers of this net \(have: "mnist"\)/
    )
  })
})
