/**
 * `npm run bench data`: Data-layer throughput (records/s through openBatchSource: LMDB read, Datum
 * decode, DataTransformer with LeNet's scale, label copy; then the same with crop_size 24 and mirror in
 * TRAIN, random draws included) beside raw LMDB read throughput (cursor over the same database, bytes
 * untouched), measured in the same run on MNIST's 60k training set.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import type { TransformationParameter } from "@deepspark/caffe"
import { convertMnist, mnistPackageFiles, openBatchSource, openLmdb, SeededRng } from "@deepspark/data"

/**
 * Records/s of each runner, best of `passes` passes taken in turns (raw, layer, layer, raw, …), so that
 * every measurement sees the same mix of load on a shared machine; the first pass also pays for JIT
 * warm-up and the page cache.
 */
const timeInTurns = (records: number, runners: ReadonlyArray<() => void>, passes = 5): Array<number> => {
  const best = runners.map(() => 0)
  for (let pass = 0; pass < passes; pass++) {
    runners.forEach((run, i) => {
      const t0 = process.hrtime.bigint()
      run()
      best[i] = Math.max(best[i]!, records / (Number(process.hrtime.bigint() - t0) / 1e9))
    })
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
    const batch = 64
    const batches = Math.floor(n / batch)
    const label = new Float32Array(batch)
    /** A Data layer with this transform (TRAIN, seeded draws) and a runner reading one epoch through it. */
    const dataLayer = async (transformParam: TransformationParameter) => {
      const src = await openBatchSource({
        dataParam: { source: db, batch_size: batch, backend: "LMDB", prefetch: 4 },
        transformParam,
        phase: "TRAIN",
        rng: new SeededRng(1)
      })
      const data = new Float32Array(src.shape.data.reduce((a, b) => a * b, 1))
      return { src, run: () => { for (let b = 0; b < batches; b++) src.next(data, label) } }
    }
    const plain = await dataLayer({ scale: 0.00390625 })
    const cropMirror = await dataLayer({ scale: 0.00390625, crop_size: 24, mirror: true })
    const readRaw = () => {
      for (let i = 0; i < n; i++) bytes += cursor.next().value.length
    }
    const [raw, plainRate, cropRate] = timeInTurns(batches * batch, [readRaw, plain.run, cropMirror.run]) as [number, number, number]
    await Promise.all([plain.src.close(), cropMirror.src.close(), reader.close()])

    const fmt = (v: number) => `${Math.round(v).toLocaleString("en-US")} records/s`
    const passes = bytes / (batches * batch * 795)
    console.log(`raw LMDB read (cursor, ${batches * batch} records, ${((bytes / passes) / 1e6).toFixed(1)} MB per pass): ${fmt(raw)}`)
    console.log(`Data layer (batch ${batch}, decode + transform scale): ${fmt(plainRate)}`)
    console.log(`ratio Data layer / raw read: ${(plainRate / raw).toFixed(3)}`)
    console.log(`Data layer (batch ${batch}, scale + crop_size 24 + mirror, TRAIN → ${cropMirror.src.shape.data.join("×")}): ${fmt(cropRate)}`)
    console.log(`ratio Data layer crop+mirror / raw read: ${(cropRate / raw).toFixed(3)}`)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

// Run directly: node bin/run-ts.mjs bench/data.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await benchData()
