import { describe, expect, it } from "vitest"
import { DataTransformer } from "../src/transform/data-transformer.js"
import type { MeanBlob } from "../src/transform/mean-file.js"
import type { Rng } from "../src/rng.js"

/** An Rng that replays scripted draws and records each n it was asked for. */
const scripted = (...draws: Array<number>): Rng & { asked: Array<number> } => {
  const asked: Array<number> = []
  return {
    asked,
    nextInt(n: number) {
      asked.push(n)
      const v = draws.shift()
      if (v === undefined) throw new Error("unexpected draw")
      return v
    }
  }
}
const origin = { source: "test.lmdb", key: "00000000" }
const seq = (n: number) => Uint8Array.from({ length: n }, (_, i) => i)

describe("DataTransformer (Caffe §4)", () => {
  it("TEST crop is centred; no random draws without mirror", () => {
    const rng = scripted()
    const t = new DataTransformer({ crop_size: 2 }, "TEST", rng)
    const out = new Float32Array(6).fill(-1)
    const n = t.transform({ channels: 1, height: 4, width: 4, data: seq(16), label: 3 }, out, 1, origin)
    expect(n).toBe(4)
    expect([...out]).toEqual([-1, 5, 6, 9, 10, -1])
    expect(rng.asked).toEqual([])
    expect(t.outputShape({ channels: 1, height: 4, width: 4 })).toEqual([1, 2, 2])
  })

  it("TRAIN crop draws h then w offsets in [0, H − crop]", () => {
    const rng = scripted(2, 0)
    const t = new DataTransformer({ crop_size: 2 }, "TRAIN", rng)
    const out = new Float32Array(4)
    t.transform({ channels: 1, height: 4, width: 5, data: seq(20) }, out, 0, origin)
    expect(rng.asked).toEqual([3, 4])
    expect([...out]).toEqual([10, 11, 15, 16])
  })

  it("mirror draws Rand(2) first (in TEST too) and flips columns", () => {
    const rng = scripted(1)
    const t = new DataTransformer({ mirror: true, crop_size: 2 }, "TEST", rng)
    const out = new Float32Array(4)
    t.transform({ channels: 1, height: 4, width: 4, data: seq(16) }, out, 0, origin)
    expect(rng.asked).toEqual([2])
    expect([...out]).toEqual([6, 5, 10, 9])
    const rng2 = scripted(1, 1, 2)
    const t2 = new DataTransformer({ mirror: true, crop_size: 2 }, "TRAIN", rng2)
    t2.transform({ channels: 1, height: 4, width: 4, data: seq(16) }, out, 0, origin)
    expect(rng2.asked).toEqual([2, 3, 3])
    expect([...out]).toEqual([7, 6, 11, 10])
  })

  it("mean_value per channel or replicated, then scale, in float32", () => {
    const data = Uint8Array.from([10, 20, 30, 40, 50, 60])
    const out = new Float32Array(6)
    new DataTransformer({ mean_value: [1, 2, 3], scale: 0.1 }, "TEST", scripted()).transform(
      { channels: 3, height: 1, width: 2, data },
      out,
      0,
      origin
    )
    const f = Math.fround
    const expected = [9, 19, 28, 38, 47, 57].map((v) => f(v * f(0.1)))
    expect([...out]).toEqual(expected)
    new DataTransformer({ mean_value: [5] }, "TEST", scripted()).transform({ channels: 3, height: 1, width: 2, data }, out, 0, origin)
    expect([...out]).toEqual([5, 15, 25, 35, 45, 55])
    expect(() =>
      new DataTransformer({ mean_value: [1, 2] }, "TEST", scripted()).transform({ channels: 3, height: 1, width: 2, data }, out, 0, origin)
    ).toThrow(/2 mean_value entries for 3 channels/)
  })

  it("mean_file is subtracted at the cropped position; shape mismatch names the mean file and the record", () => {
    const mean: MeanBlob = {
      file: "mean.binaryproto",
      channels: 1,
      height: 4,
      width: 4,
      data: Float32Array.from({ length: 16 }, (_, i) => i * 0.25)
    }
    const out = new Float32Array(4)
    new DataTransformer({ crop_size: 2, scale: 2 }, "TEST", scripted(), { mean }).transform(
      { channels: 1, height: 4, width: 4, data: seq(16) },
      out,
      0,
      origin
    )
    expect([...out]).toEqual([5, 6, 9, 10].map((v) => Math.fround((v - v * 0.25) * 2)))
    expect(() =>
      new DataTransformer({}, "TEST", scripted(), { mean }).transform({ channels: 1, height: 3, width: 3, data: seq(9) }, out, 0, origin)
    ).toThrow(/mean\.binaryproto: mean is 1×4×4 but record "00000000" of test\.lmdb is 1×3×3/)
  })

  it("float_data records and shape errors", () => {
    const out = new Float32Array(2)
    new DataTransformer({ scale: 2 }, "TEST", scripted()).transform({ channels: 1, height: 1, width: 2, float_data: [0.5, 1.25] }, out, 0, origin)
    expect([...out]).toEqual([1, 2.5])
    expect(() =>
      new DataTransformer({}, "TEST", scripted()).transform({ channels: 1, height: 2, width: 2, data: seq(3) }, out, 0, origin)
    ).toThrow(/test\.lmdb: record "00000000" holds 3 values for channels 1 × height 2 × width 2/)
    expect(() => new DataTransformer({ mean_file: "m", mean_value: [1] }, "TEST", scripted())).toThrow(/mean_file and mean_value/)
  })
})
