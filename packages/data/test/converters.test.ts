import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import sharp from "sharp"
import { afterAll, describe, expect, it } from "vitest"
import { decodeDatum } from "@deepspark/caffe"
import { convertCifar } from "../src/convert/cifar.js"
import { computeMeanFile } from "../src/convert/compute-mean.js"
import { convertImageset } from "../src/convert/imageset.js"
import { convertMnist } from "../src/convert/mnist.js"
import { keyText } from "../src/db/datum-db.js"
import { openDatumDb } from "../src/db/open.js"
import { readIdxImages } from "../src/idx.js"
import { parseImageList } from "../src/image/image-list.js"
import { createSyncImageDecoder, readImageFileSync } from "../src/image/sync-decoder.js"
import { mnistPackageFiles } from "../src/mnist-files.js"
import { SeededRng } from "../src/rng.js"
import { DataTransformer } from "../src/transform/data-transformer.js"
import { readMeanFile } from "../src/transform/mean-file.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-conv-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("convert_cifar_data", () => {
  it("turns binary batches into %05d Datums (3×32×32 RGB planes, leading label byte)", async () => {
    const input = path.join(tmp, "cifar-in")
    mkdirSync(input)
    const record = (id: number) => {
      const r = new Uint8Array(3073)
      r[0] = id % 10
      for (let j = 1; j < 3073; j++) r[j] = (id * 13 + j) & 255
      return r
    }
    const batchOf = (from: number, n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => record(from + i)))
    for (let b = 1; b <= 5; b++) writeFileSync(path.join(input, `data_batch_${b}.bin`), batchOf((b - 1) * 3, 3))
    writeFileSync(path.join(input, "test_batch.bin"), batchOf(100, 2))
    const res = await convertCifar(input, tmp, { backend: "lmdb" })
    expect([res.train.count, res.test.count]).toEqual([15, 2])
    const db = await openDatumDb(path.join(tmp, "cifar10_train_lmdb"), "lmdb")
    const recs = [...db.range()]
    expect(recs.map((r) => keyText(r.key))).toEqual(Array.from({ length: 15 }, (_, i) => String(i).padStart(5, "0")))
    const d = decodeDatum(recs[7]!.value)
    expect([d.channels, d.height, d.width, d.label]).toEqual([3, 32, 32, 7])
    expect(Buffer.compare(d.data!, record(7).subarray(1))).toBe(0)
    const test = await openDatumDb(path.join(tmp, "cifar10_test_lmdb"), "lmdb")
    expect(decodeDatum(test.get("00001")!).label).toBe(1)
    await expect(convertCifar(path.join(tmp, "none"), path.join(tmp, "x"))).rejects.toThrow(/data_batch_1\.bin: cannot read CIFAR-10 batch/)
  })
})

describe("compute_image_mean", () => {
  it("equals a direct float32 mean and writes Caffe's legacy BlobProto bytes", async () => {
    const f = mnistPackageFiles()
    const db = path.join(tmp, "mean_src_lmdb")
    await convertMnist(f.testImages, f.testLabels, db)
    const out = path.join(tmp, "mean.binaryproto")
    const mean = await computeMeanFile(db, out)
    const images = readIdxImages(f.testImages)
    const sum = new Float32Array(784)
    for (let i = 0; i < images.count; i++) for (let j = 0; j < 784; j++) sum[j] = Math.fround(sum[j]! + images.pixels[i * 784 + j]!)
    const want = sum.map((s) => Math.fround(s / images.count))
    expect(Buffer.compare(Buffer.from(mean.data.buffer), Buffer.from(want.buffer))).toBe(0)
    const bytes = readFileSync(out)
    // 08 01 10 C 18 H 20 W 2A <len varint> <floats>
    expect([...bytes.subarray(0, 11)]).toEqual([0x08, 1, 0x10, 1, 0x18, 28, 0x20, 28, 0x2a, 0xc0, 0x18])
    expect(bytes.length).toBe(11 + 784 * 4)
    expect(Buffer.compare(bytes.subarray(11), Buffer.from(want.buffer))).toBe(0)
    const read = readMeanFile(out)
    expect([read.channels, read.height, read.width]).toEqual([1, 28, 28])
  })
})

describe("convert_imageset", () => {
  const makeImages = async () => {
    const root = path.join(tmp, "imgs")
    mkdirSync(path.join(root, "sub"), { recursive: true })
    // 4×3 RGB image with known pixels: R = 10x, G = 100 + y, B = 200
    const rgb = Buffer.alloc(4 * 3 * 3)
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++) {
        const p = (y * 4 + x) * 3
        rgb[p] = 10 * x
        rgb[p + 1] = 100 + y
        rgb[p + 2] = 200
      }
    await sharp(rgb, { raw: { width: 4, height: 3, channels: 3 } }).png().toFile(path.join(root, "a.png"))
    await sharp(rgb, { raw: { width: 4, height: 3, channels: 3 } }).png().toFile(path.join(root, "sub", "b c.png"))
    writeFileSync(path.join(root, "broken.png"), "not an image")
    const list = path.join(tmp, "list.txt")
    writeFileSync(list, "a.png 3\nbroken.png 1\nsub/b c.png 5\n")
    return { root, list, rgb }
  }

  it("stores decoded BGR CHW Datums under %08d_<file> keys, skipping unreadable images", async () => {
    const { root, list } = await makeImages()
    const warnings: Array<string> = []
    const res = await convertImageset(root, list, path.join(tmp, "imageset_lmdb"), { warn: (m) => warnings.push(m) })
    expect(res.count).toBe(2)
    expect(res.skipped).toEqual(["broken.png"])
    expect(warnings[0]).toMatch(/broken\.png \(.*list\.txt:2\)/)
    const db = await openDatumDb(path.join(tmp, "imageset_lmdb"), "lmdb")
    const recs = [...db.range()]
    expect(recs.map((r) => keyText(r.key))).toEqual(["00000000_a.png", "00000002_sub/b c.png"])
    const d = decodeDatum(recs[1]!.value)
    expect([d.channels, d.height, d.width, d.label]).toEqual([3, 3, 4, 5])
    const px = (c: number, y: number, x: number) => d.data![(c * 3 + y) * 4 + x]
    expect([px(0, 1, 2), px(1, 1, 2), px(2, 1, 2)]).toEqual([200, 101, 20]) // B, G, R
  })

  it("--encoded keeps the file bytes; the transformer decodes them to the same values; --gray/--resize/--shuffle", async () => {
    const { root, list } = await makeImages()
    await convertImageset(root, list, path.join(tmp, "enc_lmdb"), { encoded: true })
    const db = await openDatumDb(path.join(tmp, "enc_lmdb"), "lmdb")
    const d = decodeDatum(db.get("00000000_a.png")!)
    expect(d.encoded).toBe(true)
    expect(Buffer.compare(d.data!, readFileSync(path.join(root, "a.png")))).toBe(0)
    const t = new DataTransformer({}, "TEST", new SeededRng(1))
    const out = new Float32Array(36)
    t.transform(d, out, 0, { source: "enc_lmdb", key: "00000000_a.png" })
    await t.close()
    expect([out[0 * 12 + 5], out[1 * 12 + 5], out[2 * 12 + 5]]).toEqual([200, 101, 10])

    await convertImageset(root, list, path.join(tmp, "gray_lmdb"), { gray: true, resizeHeight: 6, resizeWidth: 8, shuffle: true, rng: new SeededRng(3) })
    const decoder = createSyncImageDecoder()
    const img = readImageFileSync(decoder, path.join(root, "a.png"), { mode: "color", height: 6, width: 2 })
    expect([img.channels, img.height, img.width]).toEqual([3, 6, 2])
    expect(() => readImageFileSync(decoder, path.join(root, "broken.png"), { mode: "color" })).toThrow(/broken\.png: cannot decode image/)
    await decoder.close()
    const g = await openDatumDb(path.join(tmp, "gray_lmdb"), "lmdb")
    const gd = [...g.range()].map((r) => ({ key: keyText(r.key), datum: decodeDatum(r.value) }))
    expect(gd.map((r) => r.key.slice(9)).sort()).toEqual(["a.png", "sub/b c.png"])
    expect([gd[0]!.datum.channels, gd[0]!.datum.height, gd[0]!.datum.width]).toEqual([1, 6, 8])
  })

  it("parses list lines at the last space and reports bad lines with file:line", () => {
    expect(parseImageList("x y.jpg 2\n\nz.png 0\n", "l.txt")).toEqual([
      { file: "x y.jpg", label: 2, line: 1 },
      { file: "z.png", label: 0, line: 3 }
    ])
    expect(() => parseImageList("ok.png 1\nnolabel\n", "l.txt")).toThrow(/l\.txt:2: expected "<path> <integer label>"/)
  })

  it("--check_size: every image must match the first stored one (after resize), else an error names the line and the image", async () => {
    const { root, rgb } = await makeImages()
    await sharp(rgb, { raw: { width: 3, height: 4, channels: 3 } }).png().toFile(path.join(root, "tall.png"))
    const list = path.join(tmp, "sizes.txt")
    // broken.png is skipped (not the first image); tall.png is 3×4×3 where a.png is 3×3×4
    writeFileSync(list, "broken.png 0\na.png 1\nsub/b c.png 2\ntall.png 3\n")
    const out = (name: string) => path.join(tmp, name)
    expect((await convertImageset(root, list, out("nocheck_lmdb"))).count).toBe(3)
    await expect(convertImageset(root, list, out("check_lmdb"), { checkSize: true })).rejects.toThrow(
      /sizes\.txt:4: image .*tall\.png is 3×4×3 \(channels×height×width\), expected 3×3×4 like the first image, .*a\.png \(.*sizes\.txt:2\) \(--check_size\)/
    )
    await expect(convertImageset(root, list, out("check_enc_lmdb"), { checkSize: true, encoded: true })).rejects.toThrow(/sizes\.txt:4: image .*tall\.png is 3×4×3/)
    await expect(convertImageset(root, list, out("check_gray_lmdb"), { checkSize: true, gray: true })).rejects.toThrow(/tall\.png is 1×4×3.*expected 1×3×4/)
    // a resize makes every image the same size
    const resized = await convertImageset(root, list, out("check_resized_lmdb"), { checkSize: true, resizeHeight: 5, resizeWidth: 5 })
    expect(resized.count).toBe(3)
  })
})
