import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { encodeDatum, MemoryLimitError } from "@deepspark/caffe"
import { afterAll, describe, expect, it } from "vitest"
import { openBatchSource } from "./batch-source.js"
import { createLmdb } from "./db/lmdb-writer.js"
import { SeededRng } from "./rng.js"

/**
 * A batch too large for the machine is refused before any batch-sized buffer exists, naming the layer
 * and the field that sizes it (`batch_size: 2000000000` used to end in "Invalid typed array length:
 * 6000000000").
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-batch-memory-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("batch memory", () => {
  it("batch_size: 2000000000 names the layer, the field, the bytes and the limit", async () => {
    const db = path.join(tmp, "db")
    const w = createLmdb(db)
    for (let i = 0; i < 3; i++) await w.put(String(i), encodeDatum({ channels: 1, height: 28, width: 28, data: new Uint8Array(784).fill(i), label: i }))
    await w.close()
    const opened = openBatchSource({ dataParam: { source: db, batch_size: 2_000_000_000, backend: "LMDB" }, phase: "TRAIN", rng: new SeededRng(1), layer: "mnist" })
    const error = await opened.then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(MemoryLimitError)
    const message = (error as Error).message
    expect(message).toMatch(/^layer 'mnist' \(Data\): a batch of 2000000000 records of 1×28×28 \(data_param\.batch_size: 2000000000\) needs 12\.57 TB/)
    expect(message).toMatch(/over the limit of [\d.]+ [kMGT]B/)
  })
})
