import { describe, expect, it } from "vitest"
import type { BlobProto } from "../schema/types.js"
import { blobCount, blobData, blobDiff, blobShape, makeBlobProto, shapeEquals } from "./blob.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"
import { BlobProtoError } from "./errors.js"

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"))
const f32hex = (...xs: Array<number>) => hex(new Uint8Array(Float32Array.from(xs).buffer))

describe("BlobProto", () => {
  it("makeBlobProto writes shape + data (Blob::ToProto layout, ascending field numbers)", () => {
    const blob = makeBlobProto([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]))
    // data(5) packed comes before shape(7)
    expect(hex(encode("BlobProto", blob))).toBe("2a18" + f32hex(1, 2, 3, 4, 5, 6) + "3a04" + "0a020203")
    const back = decode("BlobProto", encode("BlobProto", blob))
    expect(blobShape(back)).toEqual([2, 3])
    expect(blobData(back)).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]))
  })

  it("writes diff after data", () => {
    const blob = makeBlobProto([2], Float32Array.from([1, 2]), Float32Array.from([3, 4]))
    expect(hex(encode("BlobProto", blob))).toBe("2a08" + f32hex(1, 2) + "3208" + f32hex(3, 4) + "3a03" + "0a0102")
    expect(blobDiff(decode("BlobProto", encode("BlobProto", blob)))).toEqual(Float32Array.from([3, 4]))
  })

  it("0-axis blob: no shape field, one value, reads back as shape [] with count 1", () => {
    const blob = makeBlobProto([], Float32Array.from([0.25]))
    expect(blob.shape).toBeUndefined()
    const bytes = encode("BlobProto", blob)
    expect(hex(bytes)).toBe("2a04" + f32hex(0.25))
    const back = decode("BlobProto", bytes)
    expect(blobShape(back)).toEqual([])
    expect(blobCount(back)).toBe(1)
    expect(blobData(back)).toEqual(Float32Array.from([0.25]))
  })

  it("legacy 4-D dims win over `shape` when any is present", () => {
    const blob: BlobProto = { num: 2, height: 1, width: 1, shape: { dim: [7] }, data: new Float32Array(0) }
    expect(blobShape(blob)).toEqual([2, 0, 1, 1])
    expect(blobCount(blob)).toBe(0)
    expect(blobShape({ channels: 3, data: new Float32Array(0) })).toEqual([0, 3, 0, 0])
  })

  it("reads the compute_image_mean layout 08 01 10 C 18 H 20 W 2A <len> <floats>", () => {
    const values = Array.from({ length: 12 }, (_, i) => i * 0.5)
    const bytes = fromHex("0801 1003 1802 2002 2a30" + f32hex(...values))
    const blob = decode("BlobProto", bytes)
    expect(blob).toEqual({ num: 1, channels: 3, height: 2, width: 2, data: Float32Array.from(values) })
    expect(blobShape(blob)).toEqual([1, 3, 2, 2])
    expect(blobData(blob)).toEqual(Float32Array.from(values))
    expect(hex(encode("BlobProto", blob))).toBe(hex(bytes))
  })

  it("double_data wins over data when non-empty, and is written as packed doubles", () => {
    const blob: BlobProto = {
      shape: { dim: [2] },
      data: Float32Array.from([9, 9, 9]),
      double_data: Float64Array.from([0.1, -2.5])
    }
    expect(blobData(blob)).toEqual(Float32Array.from([0.1, -2.5]))
    const bytes = encode("BlobProto", blob)
    const back = decode("BlobProto", bytes)
    expect(back.double_data).toBeInstanceOf(Float64Array)
    expect(back.double_data).toEqual(Float64Array.from([0.1, -2.5]))
    expect(hex(bytes)).toContain("4210" + hex(new Uint8Array(Float64Array.from([0.1, -2.5]).buffer)))
    // empty double_data does not win
    expect(blobData({ shape: { dim: [1] }, data: Float32Array.from([3]), double_data: new Float64Array(0) })).toEqual(
      Float32Array.from([3])
    )
  })

  it("a value count that differs from the shape count is a BlobProtoError", () => {
    expect(() => blobData({ shape: { dim: [2, 2] }, data: Float32Array.from([1, 2, 3]) })).toThrow(BlobProtoError)
    expect(() => blobData({ num: 1, channels: 1, height: 1, width: 2, data: Float32Array.from([1]) })).toThrow(
      /holds 2 values but data has 1/
    )
    expect(() => blobData({})).toThrow(BlobProtoError) // shape [] needs exactly one value
    expect(() => makeBlobProto([3], new Float32Array(2))).toThrow(BlobProtoError)
  })

  it("packed and unpacked encodings of data / dim decode to the same blob", () => {
    const packed = fromHex("2a08" + f32hex(1.5, -3) + "3a04 0a02 0201")
    // data as two fixed32 records (tag 0x2d), dim as two varint records (tag 0x08)
    const unpacked = fromHex("2d" + f32hex(1.5) + "2d" + f32hex(-3) + "3a04 0802 0801")
    // mixed: one unpacked element, then a packed chunk
    const mixed = fromHex("2d" + f32hex(1.5) + "2a04" + f32hex(-3) + "3a04 0a02 0201")
    const expected = { shape: { dim: [2, 1] }, data: Float32Array.from([1.5, -3]) }
    for (const bytes of [packed, unpacked, mixed]) {
      const blob = decode("BlobProto", bytes)
      expect(blob).toEqual(expected)
      expect(blob.data).toBeInstanceOf(Float32Array)
      expect(hex(encode("BlobProto", blob))).toBe(hex(packed))
    }
  })

  it("decoded float data does not alias the input buffer", () => {
    const bytes = encode("BlobProto", makeBlobProto([1], Float32Array.from([1])))
    const blob = decode("BlobProto", bytes)
    bytes.fill(0)
    expect(blob.data![0]).toBe(1)
  })

  it("shapeEquals follows Caffe: legacy dims right-aligned with missing leading axes = 1", () => {
    const legacyW: BlobProto = { num: 1, channels: 1, height: 4096, width: 9216 }
    expect(shapeEquals(legacyW, [4096, 9216])).toBe(true)
    expect(shapeEquals(legacyW, [1, 1, 4096, 9216])).toBe(true)
    expect(shapeEquals(legacyW, [9216, 4096])).toBe(false)
    expect(shapeEquals({ num: 1, channels: 1, height: 1, width: 4096 }, [4096])).toBe(true)
    expect(shapeEquals({ num: 1, channels: 1, height: 1, width: 4096 }, [1, 1, 1, 1, 4096])).toBe(false)
    expect(shapeEquals({ num: 20, channels: 1, height: 5, width: 5 }, [20, 1, 5, 5])).toBe(true)
    // modern shapes compare exactly
    expect(shapeEquals({ shape: { dim: [4096] } }, [4096])).toBe(true)
    expect(shapeEquals({ shape: { dim: [1, 4096] } }, [4096])).toBe(false)
    expect(shapeEquals({}, [])).toBe(true)
  })
})
