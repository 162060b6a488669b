import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { gzipSync } from "node:zlib"
import { afterAll, describe, expect, it } from "vitest"
import { convertMnist } from "../src/convert/mnist.js"
import { keyText } from "../src/db/datum-db.js"
import { openDatumDb } from "../src/db/open.js"
import { readIdxImages, readIdxLabels } from "../src/idx.js"
import { mnistPackageFiles } from "../src/mnist-files.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-mnist-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const files = mnistPackageFiles()

/** The 795-byte value from the facts sheet: 08 01 10 1C 18 1C 22 90 06 <784 bytes> 28 <label>. */
const caffeMnistValue = (pixels: Uint8Array, label: number): Uint8Array =>
  Uint8Array.from([0x08, 0x01, 0x10, 0x1c, 0x18, 0x1c, 0x22, 0x90, 0x06, ...pixels, 0x28, label])

describe("IDX files", () => {
  it("reads the npm package's files (uncompressed IDX, big-endian headers)", () => {
    const head = readFileSync(files.testImages).subarray(0, 4)
    expect([...head]).toEqual([0, 0, 8, 3]) // magic 2051, not gzip
    const images = readIdxImages(files.testImages)
    const labels = readIdxLabels(files.testLabels)
    expect([images.count, images.rows, images.cols, labels.count]).toEqual([10000, 28, 28, 10000])
    expect(readIdxImages(files.trainImages).count).toBe(60000)
    expect([...labels.labels.subarray(0, 5)]).toEqual([7, 2, 1, 0, 4])
  })

  it("inflates gzipped files and names the file in errors", () => {
    const gz = path.join(tmp, "t10k-labels-idx1-ubyte.gz")
    writeFileSync(gz, gzipSync(readFileSync(files.testLabels)))
    expect(readIdxLabels(gz).labels).toEqual(readIdxLabels(files.testLabels).labels)
    expect(() => readIdxImages(files.testLabels)).toThrow(/t10k-labels-idx1-ubyte: magic number 2049 is not an IDX image file \(expected 2051; this is a label file\)/)
    const cut = path.join(tmp, "cut-images")
    writeFileSync(cut, readFileSync(files.testImages).subarray(0, 1000))
    expect(() => readIdxImages(cut)).toThrow(/cut-images: 1000 bytes, expected 7840016 for 10000 images of 28x28/)
    expect(() => readIdxLabels(path.join(tmp, "nope"))).toThrow(/nope: cannot read IDX file/)
  })
})

describe("convert_mnist_data", () => {
  it("writes Caffe's 795-byte Datums under %08d keys into an LMDB (data.mdb + lock.mdb)", async () => {
    const out = path.join(tmp, "mnist_test_lmdb")
    const started = Date.now()
    const res = await convertMnist(files.testImages, files.testLabels, out, { backend: "lmdb" })
    expect(Date.now() - started).toBeLessThan(30_000) // ~1 s here; loose for shared CI cores
    expect(res.count).toBe(10000)
    expect(readFileSync(path.join(out, "data.mdb")).length).toBeGreaterThan(0)
    expect(() => readFileSync(path.join(out, "lock.mdb"))).not.toThrow()
    const images = readIdxImages(files.testImages)
    const labels = readIdxLabels(files.testLabels)
    const db = await openDatumDb(out, "lmdb")
    expect(db.count()).toBe(10000)
    let i = 0
    for (const rec of db.range()) {
      expect(keyText(rec.key)).toBe(String(i).padStart(8, "0"))
      expect(rec.value.length).toBe(795)
      const want = caffeMnistValue(images.pixels.subarray(i * 784, (i + 1) * 784), labels.labels[i]!)
      if (Buffer.compare(rec.value, want) !== 0) expect(Buffer.from(rec.value).toString("hex")).toBe(Buffer.from(want).toString("hex"))
      i++
    }
    expect(i).toBe(10000)
    await db.close()
  })

  it("writes the same records into a LevelDB", async () => {
    const out = path.join(tmp, "mnist_test_leveldb")
    await convertMnist(files.testImages, files.testLabels, out, { backend: "leveldb" })
    const db = await openDatumDb(out, "leveldb")
    expect(db.count()).toBe(10000)
    const images = readIdxImages(files.testImages)
    const labels = readIdxLabels(files.testLabels)
    const last = db.get("00009999")!
    expect(Buffer.compare(last, caffeMnistValue(images.pixels.subarray(9999 * 784), labels.labels[9999]!))).toBe(0)
    await db.close()
  })
})
