import { encode, encodeDatum } from "@deepspark/caffe"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { datasetBatchSource, openBatchSource } from "../src/batch-source.js"
import { Dataset } from "../src/dataset/dataset.js"
import { convertMnist } from "../src/convert/mnist.js"
import { createLmdb } from "../src/db/lmdb-writer.js"
import { readIdxImages, readIdxLabels } from "../src/idx.js"
import { mnistPackageFiles } from "../src/mnist-files.js"
import { SeededRng } from "../src/rng.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-bs-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const files = mnistPackageFiles()
const scale = 0.00390625

beforeAll(async () => {
  await convertMnist(files.testImages, files.testLabels, path.join(tmp, "mnist_test_lmdb"), { backend: "lmdb" })
  await convertMnist(files.testImages, files.testLabels, path.join(tmp, "mnist_test_leveldb"), { backend: "leveldb" })
})

/** Batch b as Caffe's Data layer forms it, computed straight from the IDX files (key order = file order). */
const expectedBatch = (b: number, batch: number) => {
  const images = readIdxImages(files.testImages)
  const labels = readIdxLabels(files.testLabels)
  const data = new Float32Array(batch * 784)
  const label = new Float32Array(batch)
  for (let i = 0; i < batch; i++) {
    const item = (b * batch + i) % images.count
    for (let j = 0; j < 784; j++) data[i * 784 + j] = Math.fround(images.pixels[item * 784 + j]! * Math.fround(scale))
    label[i] = labels.labels[item]!
  }
  return { data, label }
}
const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0)

describe("batchSource (the Data layer's input)", () => {
  it("feeds LeNet's batches: shapes, pixels·scale and labels equal to the IDX files, wrapping at the end", async () => {
    const src = await openBatchSource({
      dataParam: { source: "mnist_test_lmdb", batch_size: 64, backend: "LMDB" },
      transformParam: { scale },
      phase: "TRAIN",
      rng: new SeededRng(1701),
      baseDir: tmp,
      numClasses: 10
    })
    expect(src.shape).toEqual({ data: [64, 1, 28, 28], label: [64] })
    const data = new Float32Array(64 * 784)
    const label = new Float32Array(64)
    src.next(data, label)
    const want = expectedBatch(0, 64)
    expect(sum(data)).toBe(sum(want.data))
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(want.data.buffer))).toBe(0)
    expect([...label]).toEqual([...want.label])
    // batches 1..156: batch 156 holds records 9984..9999 then 0..47
    for (let b = 1; b <= 156; b++) src.next(data, label)
    const wrapped = expectedBatch(156, 64)
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(wrapped.data.buffer))).toBe(0)
    expect([...label]).toEqual([...wrapped.label])
    await src.close()
  })

  it("LEVELDB is the backend when data_param.backend is absent (Caffe's default)", async () => {
    const src = await openBatchSource({
      dataParam: { source: path.join(tmp, "mnist_test_leveldb"), batch_size: 100 },
      transformParam: { scale, crop_size: 20 },
      phase: "TEST",
      rng: new SeededRng(1)
    })
    expect(src.shape.data).toEqual([100, 1, 20, 20])
    const data = new Float32Array(100 * 400)
    const label = new Float32Array(100)
    src.next(data, label)
    const want = expectedBatch(0, 100)
    expect(data[0]).toBe(want.data[4 * 28 + 4]) // centred crop of 28 → 20 starts at (4, 4)
    expect([...label]).toEqual([...want.label])
    await src.close()
    await expect(
      openBatchSource({ dataParam: { source: path.join(tmp, "mnist_test_lmdb"), batch_size: 1 }, phase: "TEST", rng: new SeededRng(1) })
    ).rejects.toThrow(/mnist_test_lmdb/)
  })

  it("labels outside the classes and undecodable records name the database and key", async () => {
    const dir = path.join(tmp, "bad_lmdb")
    const w = createLmdb(dir)
    w.putSync("00000000", encodeDatum({ channels: 1, height: 2, width: 2, data: new Uint8Array(4), label: 3 }))
    w.putSync("00000001", encodeDatum({ channels: 1, height: 2, width: 2, data: new Uint8Array(4), label: 12 }))
    w.putSync("00000002", Uint8Array.from([0x22, 0x50, 0x01]))
    await w.close()
    const src = await openBatchSource({
      dataParam: { source: dir, batch_size: 1, backend: "LMDB" },
      phase: "TEST",
      rng: new SeededRng(1),
      numClasses: 10
    })
    const data = new Float32Array(4)
    const label = new Float32Array(1)
    src.next(data, label)
    expect(() => src.next(data, label)).toThrow(/bad_lmdb: record "00000001" has label 12, expected a class in \[0, 10\)/)
    expect(() => src.next(data, label)).toThrow(/bad_lmdb: record "00000002" is not a Datum/)
    await src.close()
  })

  it("bad input through the Data layer: a missing database, an image that does not decode, a record shorter than its shape, a mean file of another shape, labels outside the classes", async () => {
    const open = (source: string, extra: Partial<Parameters<typeof openBatchSource>[0]> = {}) =>
      openBatchSource({ dataParam: { source, batch_size: 2, backend: "LMDB" }, phase: "TRAIN", rng: new SeededRng(1), layer: "feed", ...extra })
    await expect(open(path.join(tmp, "no_such_lmdb"))).rejects.toThrow(
      /layer "feed" data_param\.source \(backend LMDB\): .*no_such_lmdb: cannot open LMDB database \(ENOENT/
    )
    await expect(open(path.join(tmp, "no_such_lmdb"), { dataParam: { source: path.join(tmp, "no_such_db"), batch_size: 2 } })).rejects.toThrow(
      /layer "feed" data_param\.source \(backend LEVELDB, Caffe's default when data_param\.backend is absent\): .*no_such_db: no such LevelDB/
    )

    const dir = path.join(tmp, "bad_inputs_lmdb")
    const w = createLmdb(dir)
    const pixels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i * 9)
    w.putSync("a0", encodeDatum({ channels: 1, height: 3, width: 3, data: pixels(9), label: 0 }))
    w.putSync("a1", encodeDatum({ channels: 1, height: 3, width: 3, data: pixels(9), label: 255 }))
    w.putSync("a2", encodeDatum({ channels: 1, height: 3, width: 3, data: pixels(7), label: 1 })) // truncated image
    w.putSync("a3", encodeDatum({ channels: 1, height: 3, width: 3, data: pixels(9), label: 1 }))
    w.putSync("a4", encodeDatum({ data: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2]), encoded: true, label: 1 }))
    w.putSync("a5", encodeDatum({ channels: 1, height: 3, width: 3, data: pixels(9), label: 1 }))
    await w.close()
    const data = new Float32Array(2 * 9)
    const label = new Float32Array(2)

    // labels: 255 passes as an ignore_label, then the truncated record stops the batch (fast path or not)
    for (const transformParam of [{}, { crop_size: 2, mirror: true }]) {
      const src = await open(dir, { transformParam })
      src.expectLabels({ numClasses: 10, ignoreLabels: [255], by: 'layer "loss" (SoftmaxWithLoss)' })
      src.next(data, label)
      expect([...label]).toEqual([0, 255])
      expect(() => src.next(data, label)).toThrow(/bad_inputs_lmdb: record "a2" holds 7 values for channels 1 × height 3 × width 3/)
      expect(() => src.next(data, label)).toThrow(/bad_inputs_lmdb: record "a4" is an encoded image that does not decode/)
      await src.close()
    }
    const strict = await open(dir)
    strict.expectLabels({ numClasses: 10, by: 'layer "loss" (SoftmaxWithLoss)' })
    expect(() => strict.next(data, label)).toThrow(/bad_inputs_lmdb: record "a1" has label 255, expected a class in \[0, 10\) \(layer "loss" \(SoftmaxWithLoss\) has 10 classes\)/)
    await strict.close()

    // a mean file of another shape: the fast path declines and the transform names both
    const meanFile = path.join(tmp, "mean_2x2.binaryproto")
    writeFileSync(meanFile, encode("BlobProto", { num: 1, channels: 1, height: 2, width: 2, data: new Float32Array(4) }))
    const meaned = await open(dir, { transformParam: { mean_file: meanFile } })
    expect(() => meaned.next(data, label)).toThrow(/mean_2x2\.binaryproto: mean is 1×2×2 but record "a0" of .*bad_inputs_lmdb is 1×3×3 \(expected equal shapes\)/)
    await meaned.close()
  })

  it("position() resumes a database source at the next batch, despite read-ahead", async () => {
    const open = (startKey?: string) =>
      openBatchSource({
        dataParam: { source: path.join(tmp, "mnist_test_lmdb"), batch_size: 10, backend: "LMDB", prefetch: 3 },
        phase: "TEST",
        rng: new SeededRng(1),
        ...(startKey !== undefined ? { startKey } : {})
      })
    const a = await open()
    const data = new Float32Array(7840)
    const label = new Float32Array(10)
    expect(a.position()).toBe("00000000")
    a.next(data, label)
    a.next(data, label)
    await new Promise((r) => setImmediate(r)) // let the read-ahead run
    const saved = a.position()
    expect(saved).toBe("00000020")
    a.next(data, label)
    const want = Float32Array.from(data)
    await a.close()
    const b = await open(saved)
    b.next(data, label)
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(want.buffer))).toBe(0)
    await b.close()
  })

  it("datasetBatchSource: a partition, shuffled per epoch, resumes exactly from its cursor", () => {
    const part = Dataset.mnist("test").partition(4, { mode: "hash" })[3]!
    const make = (cursor?: ReturnType<ReturnType<typeof datasetBatchSource>["position"]>) =>
      datasetBatchSource(part, {
        batchSize: 32,
        phase: "TRAIN",
        rng: new SeededRng(5),
        transformParam: { scale },
        shuffle: true,
        seed: 11,
        ...(cursor !== undefined ? { cursor } : {})
      })
    const a = make()
    expect(a.shape.data).toEqual([32, 1, 28, 28])
    const data = new Float32Array(32 * 784)
    const label = new Float32Array(32)
    const batches = Math.ceil(part.size / 32) + 2 // run past the epoch boundary
    for (let b = 0; b < batches; b++) a.next(data, label)
    const saved = JSON.parse(JSON.stringify(a.position()))
    expect(saved.epoch).toBe(1)
    a.next(data, label)
    const wantData = Float32Array.from(data)
    const wantLabel = Float32Array.from(label)
    const b = make(saved)
    b.next(data, label)
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(wantData.buffer))).toBe(0)
    expect([...label]).toEqual([...wantLabel])
  })
})
