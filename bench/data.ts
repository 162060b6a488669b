/**
 * `npm run bench data`: Data-layer throughput (records/s through openBatchSource: LMDB read, Datum
 * decode, DataTransformer with LeNet's scale, label copy) beside raw LMDB read throughput (cursor over
 * the same database, bytes untouched), measured in the same run on MNIST's 60k training set.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { convertMnist, mnistPackageFiles, openBatchSource, openLmdb, SeededRng } from "@deepspark/data"

/** Best of three passes (records/s): the first pass also pays for JIT warm-up and the page cache. */
const timeIt = (records: number, run: () => void): number => {
  let best = 0
  for (let pass = 0; pass < 3; pass++) {
    const t0 = process.hrtime.bigint()
    run()
    best = Math.max(best, records / (Number(process.hrtime.bigint() - t0) / 1e9))
  }
  return best
}

export async function benchData(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-bench-data-"))
  try {
    const files = mnistPackageFiles()
    const db = path.join(tmp, "mnist_train_lmdb")
    const t0 = Date.now()
    await convertMnist(files.trainImages, files.trainLabels, db, { backend: "lmdb" })
    console.log(`convert_mnist_data 60000 records: ${((Date.now() - t0) / 1000).toFixed(2)} s`)

    const reader = openLmdb(db)
    const n = reader.count()
    const cursor = reader.cursor()
    let bytes = 0
    const raw = timeIt(n, () => {
      for (let i = 0; i < n; i++) bytes += cursor.next().value.length
    })
    await reader.close()

    const batch = 64
    const src = await openBatchSource({
      dataParam: { source: db, batch_size: batch, backend: "LMDB", prefetch: 4 },
      transformParam: { scale: 0.00390625 },
      phase: "TRAIN",
      rng: new SeededRng(1)
    })
    const data = new Float32Array(batch * 784)
    const label = new Float32Array(batch)
    const batches = Math.floor(n / batch)
    const layer = timeIt(batches * batch, () => {
      for (let b = 0; b < batches; b++) src.next(data, label)
    })
    await src.close()

    const fmt = (v: number) => `${Math.round(v).toLocaleString("en-US")} records/s`
    console.log(`raw LMDB read (cursor, ${n} records, ${(bytes / 3e6).toFixed(1)} MB per pass): ${fmt(raw)}`)
    console.log(`Data layer (batch ${batch}, decode + transform scale): ${fmt(layer)}`)
    console.log(`ratio Data layer / raw read: ${(layer / raw).toFixed(3)}`)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

// Run directly: node bin/run-ts.mjs bench/data.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await benchData()
