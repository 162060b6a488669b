import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeEffect, encodeEffect } from "./codec.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"
import { ProtoDecodeError, ProtoEncodeError } from "./errors.js"

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"))

const decodeError = (f: () => unknown): ProtoDecodeError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(ProtoDecodeError)
    return e as ProtoDecodeError
  }
  throw new Error("expected a ProtoDecodeError")
}

describe("varints", () => {
  it("int32 negatives are 10-byte varints; int64, uint32 and bool round-trip", () => {
    // FillerParameter.sparse = 7 (int32)
    expect(hex(encode("FillerParameter", { sparse: -1 }))).toBe("38ffffffffffffffffff01")
    expect(decode("FillerParameter", fromHex("38ffffffffffffffffff01"))).toEqual({ sparse: -1 })
    expect(decode("FillerParameter", fromHex("3880808080f8ffffffff01"))).toEqual({ sparse: -2147483648 })
    // SolverParameter.random_seed = 20 (int64)
    for (const seed of [-1, 1701, 2 ** 40 + 3, -(2 ** 45), Number.MAX_SAFE_INTEGER]) {
      expect(decode("SolverParameter", encode("SolverParameter", { random_seed: seed }))).toEqual({ random_seed: seed })
    }
    expect(hex(encode("SolverParameter", { random_seed: -1 }))).toBe("a001ffffffffffffffffff01")
    // ConvolutionParameter.num_output = 1 (uint32)
    expect(hex(encode("ConvolutionParameter", { num_output: 4294967295 }))).toBe("08ffffffff0f")
    expect(decode("ConvolutionParameter", fromHex("08ffffffff0f"))).toEqual({ num_output: 4294967295 })
    // a uint32 varint carrying more than 32 bits keeps the low 32 (proto2 truncation)
    expect(decode("ConvolutionParameter", fromHex("08ffffffff1f"))).toEqual({ num_output: 4294967295 })
    expect(decode("NetParameter", fromHex("2801"))).toEqual({ force_backward: true })
    expect(decode("NetParameter", fromHex("2800"))).toEqual({ force_backward: false })
  })

  it("rejects a varint longer than 10 bytes and truncated varints", () => {
    expect(decodeError(() => decode("FillerParameter", fromHex("38ffffffffffffffffffff01"))).reason).toMatch(/longer/)
    const e = decodeError(() => decode("FillerParameter", fromHex("38ffff")))
    expect(e.reason).toMatch(/truncated varint/)
    expect(e.fieldPath).toBe("sparse")
    expect(e.offset).toBe(3)
  })
})

describe("decoding rules", () => {
  it("skips unknown fields of every wire type, including groups", () => {
    // NetParameter: unknown 9 varint, 10 fixed64, 11 len, 12 fixed32, 13 group{ 1 varint }, then name
    const bytes = fromHex("4801 510102030405060708 5a03616263 6501020304 6b 0805 6c 0a014e")
    expect(decode("NetParameter", bytes)).toEqual({ name: "N" })
  })

  it("skips a known field that arrives with an unexpected wire type (proto2)", () => {
    // name (string, field 1) sent as a varint; then force_backward
    expect(decode("NetParameter", fromHex("0805 2801"))).toEqual({ force_backward: true })
  })

  it("skips enum numbers the schema does not know", () => {
    // PoolingParameter.pool = 9 (unknown), stride = 2
    expect(decode("PoolingParameter", fromHex("0809 1802"))).toEqual({ stride: 2 })
    expect(decode("PoolingParameter", fromHex("0801"))).toEqual({ pool: "AVE" })
  })

  it("merges a repeated occurrence of a singular message; last scalar wins", () => {
    // LayerParameter.convolution_param (106, tag d2 06) twice
    const a = encode("LayerParameter", { convolution_param: { num_output: 3, kernel_size: [5] } })
    const b = encode("LayerParameter", { convolution_param: { num_output: 4, kernel_size: [3] }, name: "x" })
    const merged = decode("LayerParameter", Uint8Array.from([...a, ...b]))
    expect(merged).toEqual({ name: "x", convolution_param: { num_output: 4, kernel_size: [5, 3] } })
  })

  it("accepts packed encodings of fields declared unpacked", () => {
    // ConvolutionParameter.pad (3) packed: 3a 02 01 02 ; loss_weight (LayerParameter 5) packed floats
    expect(decode("ConvolutionParameter", fromHex("1a020102"))).toEqual({ pad: [1, 2] })
    expect(decode("LayerParameter", fromHex("2a08 0000803f 00000040"))).toEqual({ loss_weight: [1, 2] })
  })

  it("names the field path and byte offset of corrupt nested data", () => {
    const net = encode("NetParameter", {
      layer: [{ name: "a" }, { name: "b", blobs: [{ data: Float32Array.from([1, 2]) }] }]
    })
    const e = decodeError(() => decode("NetParameter", net.subarray(0, net.length - 1)))
    expect(e.fieldPath).toBe("layer[1]")
    expect(e.messageName).toBe("NetParameter")
    // corrupt the packed length inside the blob: 8 → 7 (not a multiple of 4)
    const bad = Uint8Array.from(net)
    bad[bad.indexOf(0x2a) + 1] = 7
    const e2 = decodeError(() => decode("NetParameter", bad))
    expect(e2.fieldPath).toBe("layer[1].blobs[0].data")
    expect(e2.reason).toMatch(/multiple of 4/)
    expect(e2.message).toMatch(/cannot decode NetParameter: .* at byte \d+ \(field layer\[1\]\.blobs\[0\]\.data\)/)
  })

  it("rejects field number 0, invalid wire types, stray end-groups and deep nesting", () => {
    expect(decodeError(() => decode("NetParameter", fromHex("0001"))).reason).toMatch(/field number 0/)
    expect(decodeError(() => decode("NetParameter", fromHex("0f"))).reason).toMatch(/invalid wire type 7/)
    expect(decodeError(() => decode("NetParameter", fromHex("6c"))).reason).toMatch(/end of group/)
    expect(decodeError(() => decode("NetParameter", fromHex("6b0801"))).reason).toMatch(/unterminated group/)
    // Caffe's schema has no recursive messages, so unbounded nesting can only come from groups.
    const deepGroups = fromHex("6b".repeat(200) + "6c".repeat(200))
    expect(decodeError(() => decode("NetParameter", deepGroups)).reason).toMatch(/deeper than 100/)
  })
})

describe("encoding rules", () => {
  it("writes fields in ascending field-number order regardless of key order", () => {
    const bytes = encode("NetParameter", { layer: [{ name: "l" }], force_backward: true, name: "n" })
    expect(hex(bytes)).toBe("0a016e" + "2801" + "a20603" + "0a016c")
  })

  it("omits empty repeated fields and keeps present defaults (presence is preserved)", () => {
    expect(hex(encode("LayerParameter", { bottom: [], loss_weight: [], blobs: [] }))).toBe("")
    expect(hex(encode("ParamSpec", { lr_mult: 1 }))).toBe("1d0000803f")
  })

  it("writes repeated numeric fields with their declared packing", () => {
    // BlobShape.dim packed
    expect(hex(encode("BlobShape", { dim: [64, 1, 28, 28] }))).toBe("0a0440011c1c")
    // ConvolutionParameter.kernel_size unpacked (tag 0x20 per element)
    expect(hex(encode("ConvolutionParameter", { kernel_size: [3, 5] }))).toBe("20032005")
    // LayerParameter.propagate_down unpacked bools
    expect(hex(encode("LayerParameter", { propagate_down: [true, false] }))).toBe("58015800")
  })

  it("accepts number[] where a Float32Array is the in-memory form", () => {
    expect(encode("BlobProto", { data: [1, 2] as unknown as Float32Array })).toEqual(
      encode("BlobProto", { data: Float32Array.from([1, 2]) })
    )
  })

  it("raises ProtoEncodeError for messages that do not fit the schema", () => {
    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ["LayerParameter", { nme: "x" }, /no field "nme"/],
      ["LayerParameter", { name: 3 }, /expected a string/],
      ["LayerParameter", { bottom: "x" }, /expected an array/],
      ["PoolingParameter", { pool: "MIN" }, /not a value/],
      ["PoolingParameter", { pool: 1 }, /enum value name/],
      ["ConvolutionParameter", { num_output: -1 }, /out of range for uint32/],
      ["ConvolutionParameter", { num_output: 1.5 }, /integer/],
      ["FillerParameter", { sparse: 2 ** 31 }, /out of range for int32/],
      ["Datum", { data: [1, 2] }, /Uint8Array/],
      ["NetParameter", { layer: [{ convolution_param: { pad: ["1"] } }] }, /layer\[0\]\.convolution_param\.pad\[0\]/],
      ["NetParameter", { state: [] }, /expected a NetState message object/]
    ]
    for (const [name, msg, pattern] of bad) {
      let caught: unknown
      try {
        encode(name, msg)
      } catch (e) {
        caught = e
      }
      expect(caught, `${name} ${JSON.stringify(msg)}`).toBeInstanceOf(ProtoEncodeError)
      expect((caught as ProtoEncodeError).message).toMatch(pattern)
    }
  })

  it("rejects cyclic messages with ProtoEncodeError", () => {
    const cyc: Record<string, unknown> = { name: "c" }
    cyc["net_param"] = cyc
    expect(() => encode("SolverParameter", cyc as never)).toThrow(ProtoEncodeError)
  })
})

describe("Effect wrappers", () => {
  it("turn codec errors into typed failures", () => {
    const ok = Effect.runSync(decodeEffect("Datum", fromHex("2807")))
    expect(ok).toEqual({ label: 7 })
    const failed = Effect.runSync(Effect.either(decodeEffect("Datum", fromHex("22ff"))))
    expect(Either.isLeft(failed) && failed.left._tag).toBe("ProtoDecodeError")
    const encFailed = Effect.runSync(Effect.either(encodeEffect("Datum", { label: "x" as unknown as number })))
    expect(Either.isLeft(encFailed) && encFailed.left._tag).toBe("ProtoEncodeError")
    expect(Effect.runSync(encodeEffect("Datum", { label: 7 }))).toEqual(fromHex("2807"))
  })
})
