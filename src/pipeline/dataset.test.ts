import { createLmdb, encodeDatum, type Datum } from "@deepspark/data"
import { Chunk, Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Dataset } from "./dataset.js"

const datum = (i: number): Datum => ({ channels: 1, height: 1, width: 2, data: new Uint8Array([i, 255 - i]), label: i % 3 })

const lmdbOf = async (n: number) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-pipeline-dataset-"))
  const out = path.join(dir, "db")
  const db = createLmdb(out)
  for (let i = 0; i < n; i++) db.putSync(String(i).padStart(8, "0"), encodeDatum(datum(i)))
  await db.close()
  return out
}

const keysOf = <A>(d: { stream: Stream.Stream<{ key: string; value: A }, unknown> }) =>
  Effect.runPromise(Stream.runCollect(d.stream).pipe(Effect.map((c) => Chunk.toArray(c).map((r) => r.key))))

describe("Dataset values", () => {
  it("Dataset.lmdb(path).partition(4) is synchronous; each partition opens (scoped) to its key range", async () => {
    const db = await lmdbOf(10)
    const parts = Dataset.lmdb(db).partition(4)
    expect(parts.map((p) => [p.index, p.count])).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4]
    ])
    const keys = await Promise.all(parts.map(keysOf))
    expect(keys.map((k) => k.length)).toEqual([2, 3, 2, 3])
    expect(keys.flat()).toEqual(Array.from({ length: 10 }, (_, i) => String(i).padStart(8, "0")))
    const sizes = await Effect.runPromise(Effect.scoped(Effect.forEach(parts, (p) => Effect.map(p.open, (s) => s.size))))
    expect(sizes).toEqual([2, 3, 2, 3])
  })

  it("transform stages, take, in-memory arrays and custom streams compose before anything is read", async () => {
    const doubled = Dataset.fromIterable([1, 2, 3, 4, 5]).map((v, key) => `${key}:${v * 2}`)
    const values = await Effect.runPromise(Stream.runCollect(doubled.take(3).stream).pipe(Effect.map((c) => Chunk.toArray(c).map((r) => r.value))))
    expect(values).toEqual(["00000000:2", "00000001:4", "00000002:6"])
    const custom = Dataset.fromStream(Stream.fromIterable([0, 1, 2, 3, 4]).pipe(Stream.map((i) => ({ key: `k${9 - i}`, value: i }))))
    expect(await keysOf(custom.partition(2, { mode: "range" })[0]!)).toEqual(["k5", "k6"])
  })

  it("a missing database is a DatasetError naming it, in the error channel", async () => {
    const missing = path.join(os.tmpdir(), "ds-no-such-lmdb-here")
    const exit = await Effect.runPromise(Effect.scoped(Dataset.lmdb(missing).partition(2)[1]!.open).pipe(Effect.flip))
    expect(exit._tag).toBe("DatasetError")
    expect(exit.message).toContain(missing)
  })
})
