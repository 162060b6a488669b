import { readFileSync } from "node:fs"
import sharp from "sharp"
import { describe, expect, it } from "vitest"
import { decodeImage } from "./decode-image.js"
import { linearTaps, resizeLinearU8 } from "./resize-linear.mjs"

const gray = (height: number, width: number, values: ReadonlyArray<number>) => ({ channels: 1, height, width, data: Uint8Array.from(values) })

describe("resizeLinearU8: OpenCV INTER_LINEAR 8-bit fixed point (hand-computed cases)", () => {
  it("taps: pixel-centre mapping, 11-bit coefficients, columns clamped at the borders", () => {
    // 2 → 4: f = (d + 0.5)/2 − 0.5 = −0.25 (clamped to column 0), 0.25, 0.75, 1.25 (clamped to column 1)
    const up = linearTaps(2, 4, true)
    expect([...up.index]).toEqual([0, 0, 0, 1])
    expect([...up.c0]).toEqual([2048, 1536, 512, 2048])
    expect([...up.c1]).toEqual([0, 512, 1536, 0])
    // 3 → 7: f = (d + 0.5)·3/7 − 0.5 = −2/7, 1/7, 4/7, 1, 10/7, 13/7, 16/7; 2048/7 = 292.57 → 293, 2048·6/7 → 1755,
    // 2048·4/7 = 1170.29 → 1170, 2048·3/7 = 877.71 → 878; f = 1 is column 1 exactly; 16/7 ≥ 2 clamps to column 2
    const t = linearTaps(3, 7, true)
    expect([...t.index]).toEqual([0, 0, 0, 1, 1, 1, 2])
    expect([...t.c0]).toEqual([2048, 1755, 878, 2048, 1170, 293, 2048])
    expect([...t.c1]).toEqual([0, 293, 1170, 0, 878, 1755, 0])
    // 7 → 3: f = (d + 0.5)·7/3 − 0.5 = 2/3, 3, 16/3 → 2048/3 = 682.67 → 683 and 1365.33 → 1365
    const down = linearTaps(7, 3, true)
    expect([...down.index]).toEqual([0, 3, 5])
    expect([...down.c0]).toEqual([683, 2048, 1365])
    expect([...down.c1]).toEqual([1365, 0, 683])
  })

  it("rows keep index and weights outside the image (their rows are clipped instead)", () => {
    const rows = linearTaps(2, 4, false)
    expect([...rows.index]).toEqual([-1, 0, 0, 1])
    expect([...rows.c0]).toEqual([512, 1536, 512, 1536])
    expect([...rows.c1]).toEqual([1536, 512, 1536, 512])
  })

  it("coefficients round half to even (17 → 301, row 299: f·2048 = 850.5 → 850, (1 − f)·2048 = 1197.5 → 1198)", () => {
    const rows = linearTaps(17, 301, false)
    expect(Math.fround((299.5 * 17) / 301 - 0.5) - 16).toBeCloseTo(0.415283203125, 9)
    expect([rows.index[299], rows.c0[299], rows.c1[299]]).toEqual([16, 1198, 850])
  })

  it("a row upscaled 2 → 4: 12.5 and 17.5 round half up in the final shift", () => {
    // h = 10·2048, 10·1536 + 20·512, 10·512 + 20·1536, 20·2048 = 20480, 25600, 35840, 40960; rows (2048, 0):
    // ((2048·(h >> 4)) >> 16 + 2) >> 2 = (40 + 2) >> 2, (50 + 2) >> 2, (70 + 2) >> 2, (80 + 2) >> 2
    expect([...resizeLinearU8(gray(1, 2, [10, 20]), 1, 4).data]).toEqual([10, 13, 18, 20])
    // the same along a column: the first and last rows blend a clipped row with itself
    expect([...resizeLinearU8(gray(2, 1, [10, 20]), 4, 1).data]).toEqual([10, 13, 18, 20])
  })

  it("2 × 2 → 1 × 1 is the rounded 2×2 average (OpenCV's INTER_AREA shortcut gives the same)", () => {
    expect([...resizeLinearU8(gray(2, 2, [1, 2, 3, 4]), 1, 1).data]).toEqual([3]) // 2.5 → 3
    expect([...resizeLinearU8(gray(2, 2, [1, 2, 3, 5]), 1, 1).data]).toEqual([3]) // 2.75 → 3
    expect([...resizeLinearU8(gray(2, 2, [1, 1, 1, 2]), 1, 1).data]).toEqual([1]) // 1.25 → 1
  })

  it("2 × 2 → 3 × 3 in both directions; the 16-bit vertical blend truncates (227 where exact rounding gives 228)", () => {
    // columns: (2048, 0)@0, (1024, 1024)@0, (2048, 0)@1; rows: (341, 1707)@−1, (1024, 1024)@0, (1707, 341)@1
    // h(row 0) = [0, 102400, 204800], h >> 4 = [0, 6400, 12800]; h(row 1) = [409600, 465920, 522240], >> 4 = [25600, 29120, 32640]
    // row 0, column 1: (341·6400) >> 16 = 33, (1707·6400) >> 16 = 166, (33 + 166 + 2) >> 2 = 50
    // row 1: (400 + 2) >> 2 = 100, (100 + 455 + 2) >> 2 = 139, (200 + 510 + 2) >> 2 = 178
    // row 2, column 1: (1707·29120) >> 16 = 758, (341·29120) >> 16 = 151, (758 + 151 + 2) >> 2 = 227
    //   (exactly rounded: (465920·2048 + 2^21) >> 22 = round(227.5) = 228; OpenCV gives 227)
    expect([...resizeLinearU8(gray(2, 2, [0, 100, 200, 255]), 3, 3).data]).toEqual([0, 50, 100, 100, 139, 178, 200, 227, 255])
  })

  it("channels are resized plane by plane; the same size is a copy", () => {
    const planes = [[0, 100, 200, 255], [10, 20, 10, 20], [7, 7, 7, 7]]
    const img = { channels: 3, height: 2, width: 2, data: Uint8Array.from(planes.flat()) }
    const out = resizeLinearU8(img, 3, 3)
    expect([out.channels, out.height, out.width]).toEqual([3, 3, 3])
    planes.forEach((p, c) => expect([...out.data.subarray(9 * c, 9 * c + 9)]).toEqual([...resizeLinearU8(gray(2, 2, p), 3, 3).data]))
    const same = resizeLinearU8(img, 2, 2)
    expect([...same.data]).toEqual(planes.flat())
    expect(same.data).not.toBe(img.data)
  })

  it("equals OpenCV 4.6's cv2.resize (INTER_LINEAR) pixel for pixel (fixtures/opencv-resize.json)", () => {
    const fixture = new URL("../../test/fixtures/opencv-resize.json", import.meta.url)
    const { cases } = JSON.parse(readFileSync(fixture, "utf8")) as {
      cases: Array<{ channels: number; height: number; width: number; outHeight: number; outWidth: number; src: Array<number>; dst: Array<number> }>
    }
    expect(cases.length).toBeGreaterThan(10)
    for (const c of cases) {
      const out = resizeLinearU8({ channels: c.channels, height: c.height, width: c.width, data: Uint8Array.from(c.src) }, c.outHeight, c.outWidth)
      expect({ shape: [c.channels, c.height, c.width, c.outHeight, c.outWidth], data: [...out.data] }).toEqual({
        shape: [c.channels, c.height, c.width, c.outHeight, c.outWidth],
        data: c.dst
      })
    }
  })

  it("decoding with a size (ImageData new_height/new_width, convert_imageset --resize_*) resizes the decoded BGR planes this way", async () => {
    const rgb = Buffer.from(Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 37 + 11) & 255))
    const png = await sharp(rgb, { raw: { width: 7, height: 5, channels: 3 } }).png().toBuffer()
    const whole = await decodeImage(png, "t.png")
    const resized = await decodeImage(png, "t.png", { height: 3, width: 11 })
    expect([resized.channels, resized.height, resized.width]).toEqual([3, 3, 11])
    expect([...resized.data]).toEqual([...resizeLinearU8(whole, 3, 11).data])
  })
})
