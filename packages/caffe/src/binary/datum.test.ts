import { describe, expect, it } from "vitest"
import { decodeDatum, encodeDatum } from "./datum.js"
import { ProtoDecodeError } from "./errors.js"

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

describe("Datum", () => {
  it("encodes an MNIST-style Datum to Caffe's exact 795 bytes", () => {
    const pixels = new Uint8Array(784)
    for (let i = 0; i < 784; i++) pixels[i] = (i * 37) & 0xff
    const bytes = encodeDatum({ channels: 1, height: 28, width: 28, data: pixels, label: 7 })
    expect(bytes.length).toBe(795)
    expect(hex(bytes.subarray(0, 9))).toBe("0801101c181c229006")
    expect(bytes.subarray(9, 793)).toEqual(pixels)
    expect(hex(bytes.subarray(793))).toBe("2807")
    const back = decodeDatum(bytes)
    expect(back).toEqual({ channels: 1, height: 28, width: 28, data: pixels, label: 7 })
    // the decoded bytes do not alias the input buffer
    bytes[9] = bytes[9]! ^ 0xff
    expect(back.data![0]).toBe(pixels[0])
  })

  it("writes float_data unpacked (tag 0x35 per element) and reads it back", () => {
    const bytes = encodeDatum({ channels: 2, height: 1, width: 1, float_data: [1.5, -2], label: 0 })
    expect(hex(bytes)).toBe("080210011801" + "2800" + "350000c03f" + "35000000c0")
    expect(decodeDatum(bytes)).toEqual({ channels: 2, height: 1, width: 1, float_data: [1.5, -2], label: 0 })
  })

  it("accepts packed float_data too", () => {
    // field 6, wire type 2, 8 bytes: 1.5, -2
    const bytes = Uint8Array.from(Buffer.from("3208" + "0000c03f" + "000000c0", "hex"))
    expect(decodeDatum(bytes)).toEqual({ float_data: [1.5, -2] })
  })

  it("round-trips encoded (JPEG) datums and negative labels", () => {
    const d = { data: Uint8Array.from([0xff, 0xd8, 0xff]), label: -1, encoded: true }
    const bytes = encodeDatum(d)
    // label -1 is a 10-byte varint (proto2 int32)
    expect(hex(bytes)).toBe("2203ffd8ff" + "28ffffffffffffffffff01" + "3801")
    expect(decodeDatum(bytes)).toEqual(d)
  })

  it("raises ProtoDecodeError on truncated input", () => {
    const bytes = encodeDatum({ channels: 1, height: 28, width: 28, data: new Uint8Array(784), label: 3 })
    expect(() => decodeDatum(bytes.subarray(0, 100))).toThrow(ProtoDecodeError)
  })
})
