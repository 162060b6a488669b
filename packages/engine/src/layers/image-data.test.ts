import type { LayerParameter } from "@deepspark/caffe"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import sharp from "sharp"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import type { Phase } from "../core/layer.js"
import { FILE_DATA_SERVICE, type FileDataService } from "./file-data-service.js"
import { ImageDataLayer } from "./image-data.js"
import { param, testContext, values } from "./layer-test-kit.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-imgdata-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
let svc: FileDataService

// 3×2 RGB image whose pixel (y, x) is (r, g, b) = (10 + k, 100 + k, 200 + k), k = 3y + x… with an offset per image
const rgb = (offset: number, w = 3, h = 2) =>
  Buffer.from(Array.from({ length: w * h }, (_, k) => [10 + k + offset, 100 + k + offset, 200 + k + offset]).flat())
const png = (file: string, offset: number, w = 3, h = 2) =>
  sharp(rgb(offset, w, h), { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(tmp, file))

beforeAll(async () => {
  svc = { data: await import("@deepspark/data"), baseDir: tmp, hdf5: null }
  mkdirSync(path.join(tmp, "img", "sub dir"), { recursive: true })
  await png("img/a.png", 0)
  await png("img/sub dir/b b.png", 20)
  for (let i = 0; i < 6; i++) await png(`img/s${i}.png`, i)
  await sharp(Buffer.alloc(4 * 4, 77), { raw: { width: 4, height: 4, channels: 1 } }).png().toFile(path.join(tmp, "img/gray.png"))
  await sharp(Buffer.from(Array.from({ length: 16 }, () => [40, 120, 220]).flat()), { raw: { width: 4, height: 4, channels: 3 } })
    .jpeg({ quality: 100 })
    .toFile(path.join(tmp, "img/c.jpg"))
  writeFileSync(path.join(tmp, "img/broken.png"), "not an image")
  writeFileSync(path.join(tmp, "two.txt"), "a.png 3\nsub dir/b b.png 5\n")
  writeFileSync(path.join(tmp, "six.txt"), Array.from({ length: 6 }, (_, i) => `s${i}.png ${i}`).join("\n"))
  writeFileSync(path.join(tmp, "jpg.txt"), "img/c.jpg 1\nimg/gray.png 2\n")
  writeFileSync(path.join(tmp, "missing.txt"), "img/a.png 0\nimg/nope.png 1\n")
  writeFileSync(path.join(tmp, "broken.txt"), "img/a.png 0\n\nimg/broken.png 1\n")
  writeFileSync(path.join(tmp, "badlabel.txt"), "img/a.png 0\nimg/a.png x\n")
  writeFileSync(path.join(tmp, "sizes.txt"), "img/a.png 0\nimg/gray.png 1\n")
})

const layer = (p: Omit<LayerParameter, "type">, phase: Phase = "TEST", seed = 1701) =>
  new ImageDataLayer(param({ name: "images", type: "ImageData", ...p }), { ...testContext(phase, seed), services: { [FILE_DATA_SERVICE]: svc } })
const setUp = (l: ImageDataLayer) => {
  const tops = [new Blob(), new Blob()]
  l.setUp([], tops)
  return tops as [Blob, Blob]
}
const step = (l: ImageDataLayer, tops: [Blob, Blob]) => {
  l.reshape()
  l.forward([], tops)
  return { data: values(tops[0]), label: values(tops[1]) }
}
/** CHW in BGR order of the image made by png(…, offset). */
const bgr = (offset: number, n = 6) => [200, 100, 10].flatMap((base) => Array.from({ length: n }, (_, k) => base + k + offset))

describe("ImageData", () => {
  it("reads the list (split at the last space, root_folder prefix) as BGR CHW, labels, wrapping at the end", () => {
    const l = layer({ image_data_param: { source: "two.txt", root_folder: "img/", batch_size: 3 } })
    const tops = setUp(l)
    expect([tops[0].shape, tops[1].shape]).toEqual([[3, 3, 2, 3], [3]])
    const b = step(l, tops)
    expect(b.data).toEqual([...bgr(0), ...bgr(20), ...bgr(0)])
    expect(b.label).toEqual([3, 5, 3])
    expect(step(l, tops).label).toEqual([5, 3, 5])
    l.close()
  })

  it("transform_param: centred crop in TEST, mean_value and scale; new_height/new_width resize; is_color false decodes gray; JPEG", () => {
    const crop = layer({ image_data_param: { source: "two.txt", root_folder: "img/", batch_size: 1 }, transform_param: { crop_size: 2, mean_value: [1, 2, 3], scale: 0.5 } })
    const tops = setUp(crop)
    expect(tops[0].shape).toEqual([1, 3, 2, 2])
    // 2×3 image, crop 2: rows 0..1, columns ⌊(3−2)/2⌋ = 0..1
    const full = bgr(0)
    const want = [0, 1, 2].flatMap((c) => [0, 1, 3, 4].map((k) => (full[c * 6 + k]! - [1, 2, 3][c]!) * 0.5))
    expect(step(crop, tops).data).toEqual(want)
    crop.close()

    const resized = layer({ image_data_param: { source: "jpg.txt", batch_size: 1, new_height: 3, new_width: 5 } })
    const rt = setUp(resized)
    expect(rt[0].shape).toEqual([1, 3, 3, 5])
    const jpg = step(resized, rt).data
    // constant (r, g, b) = (40, 120, 220) survives JPEG at quality 100 and a resize to within a few levels, in BGR order
    ;[220, 120, 40].forEach((v, c) => jpg.slice(c * 15, (c + 1) * 15).forEach((x) => expect(Math.abs(x - v)).toBeLessThanOrEqual(3)))
    const gray = step(resized, rt)
    expect(gray.label).toEqual([2])
    expect(gray.data.every((x) => x === 77)).toBe(true) // a gray PNG decodes to B = G = R
    resized.close()

    const mono = layer({ image_data_param: { source: "jpg.txt", batch_size: 2, is_color: false, new_height: 4, new_width: 4 } })
    const mt = setUp(mono)
    expect(mt[0].shape).toEqual([2, 1, 4, 4])
    const m = step(mono, mt).data
    expect(m.slice(16).every((x) => x === 77)).toBe(true)
    mono.close()
  })

  it("TRAIN mirror and random crop draw from the layer's rng: each item is a crop of its image, mirrored or not, and both occur", () => {
    const l = layer({ image_data_param: { source: "two.txt", root_folder: "img/", batch_size: 2 }, transform_param: { crop_size: 2, mirror: true } }, "TRAIN", 4)
    const tops = setUp(l)
    const plane = (img: number[], c: number) => img.slice(c * 6, c * 6 + 6) // 2 rows × 3 columns
    const crops = (offset: number) => {
      const img = bgr(offset)
      const out: string[] = []
      for (const w0 of [0, 1])
        for (const mirror of [false, true])
          out.push(
            [0, 1, 2]
              .flatMap((c) => [0, 1].flatMap((h) => (mirror ? [w0 + 1, w0] : [w0, w0 + 1]).map((w) => plane(img, c)[h * 3 + w]!)))
              .join()
          )
      return out
    }
    const kinds = new Set<number>()
    for (let b = 0; b < 8; b++) {
      const { data, label } = step(l, tops)
      label.forEach((lab, i) => {
        const k = crops(lab === 3 ? 0 : 20).indexOf(data.slice(i * 12, i * 12 + 12).join())
        expect(k).toBeGreaterThanOrEqual(0)
        kinds.add(k)
      })
    }
    expect(kinds.size).toBe(4)
    l.close()
  })

  it("images of one batch must transform to the same shape (the first image of each batch shapes the top)", () => {
    const l = layer({ image_data_param: { source: "sizes.txt", batch_size: 2 } })
    const tops = setUp(l)
    expect(tops[0].shape).toEqual([2, 3, 2, 3])
    expect(() => step(l, tops)).toThrow(/sizes\.txt:2: image img\/gray\.png gives 3×4×4, the batch's first image 3×2×3/)
    l.close()
    const one = layer({ image_data_param: { source: "sizes.txt", batch_size: 1 } })
    const t1 = setUp(one)
    step(one, t1)
    expect(t1[0].shape).toEqual([1, 3, 2, 3])
    step(one, t1)
    expect(t1[0].shape).toEqual([1, 3, 4, 4])
    one.close()
  })

  it("shuffle: each epoch is a permutation drawn from the layer's rng, reshuffled at the wrap; the same seed repeats it", () => {
    const run = (seed: number) => {
      const l = layer({ image_data_param: { source: "six.txt", root_folder: "img/", batch_size: 6, shuffle: true } }, "TRAIN", seed)
      const tops = setUp(l)
      const epochs = [step(l, tops), step(l, tops)]
      for (const e of epochs) {
        expect([...e.label].sort()).toEqual([0, 1, 2, 3, 4, 5])
        // each item's pixels are its own image's
        e.label.forEach((lab, i) => expect(e.data.slice(i * 18, i * 18 + 18)).toEqual(bgr(lab)))
      }
      l.close()
      return epochs.map((e) => e.label)
    }
    const a = run(5)
    expect(a[0]).not.toEqual([0, 1, 2, 3, 4, 5])
    expect(a[1]).not.toEqual(a[0])
    expect(run(5)).toEqual(a)
  })

  it("errors name the list file and line: missing image, undecodable image, non-integer label; and a missing service", () => {
    const missing = layer({ image_data_param: { source: "missing.txt", batch_size: 2 } })
    const mt = setUp(missing)
    expect(() => step(missing, mt)).toThrow(/missing\.txt:2: cannot read image .*nope\.png \(ENOENT\)/)
    missing.close()
    const broken = layer({ image_data_param: { source: "broken.txt", batch_size: 2 } })
    const bt = setUp(broken)
    expect(() => step(broken, bt)).toThrow(/Layer "images" \(ImageData\): .*broken\.txt:3: cannot decode image .*broken\.png/)
    broken.close()
    expect(() => setUp(layer({ image_data_param: { source: "badlabel.txt", batch_size: 1 } }))).toThrow(/badlabel\.txt:2: expected "<path> <integer label>", got "img\/a\.png x"/)
    expect(() => setUp(layer({ image_data_param: { source: "two.txt", batch_size: 1, new_height: 4 } }))).toThrow(/must be set together/)
    const bare = new ImageDataLayer(param({ name: "images", type: "ImageData", image_data_param: { source: "two.txt" } }), testContext())
    expect(() => bare.setUp([], [new Blob(), new Blob()])).toThrow(/Layer "images" \(ImageData\): no file data service \("fileData"\)/)
  })
})
