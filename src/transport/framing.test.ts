import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { Float32ArrayFromBytes, Tensor } from "./float32-schema.js"
import { lengthPrefixedMsgPack } from "./framing.js"

const parser = (max?: number) => lengthPrefixedMsgPack(max ? { maxFrameBytes: max } : {}).unsafeMake()

describe("length-prefixed msgpack framing", () => {
  it("round-trips messages split at every possible chunk boundary", () => {
    const tx = parser()
    const msgs = [{ _tag: "Exchange", id: 1, data: new Uint8Array([1, 2, 3, 4, 5]) }, { hello: "world" }, [1, 2, 3]]
    const wire = msgs.map((m) => tx.encode(m) as Uint8Array)
    const all = new Uint8Array(wire.reduce((n, w) => n + w.length, 0))
    let o = 0
    for (const w of wire) {
      all.set(w, o)
      o += w.length
    }
    for (let cut = 0; cut <= all.length; cut++) {
      const rx = parser()
      const got = [...rx.decode(all.subarray(0, cut)), ...rx.decode(all.subarray(cut))]
      expect(got.length).toBe(3)
      expect((got[0] as any).id).toBe(1)
      expect([...(got[0] as any).data]).toEqual([1, 2, 3, 4, 5])
      expect(got[1]).toEqual({ hello: "world" })
      expect(got[2]).toEqual([1, 2, 3])
    }
  })

  it("reassembles a 16 MB tensor from 64 KB chunks", () => {
    const values = new Float32Array(4 * 1024 * 1024).map((_, i) => i * 0.5)
    const frame = parser().encode({ data: new Uint8Array(values.buffer) }) as Uint8Array
    const rx = parser()
    const out: unknown[] = []
    for (let i = 0; i < frame.length; i += 65536) out.push(...rx.decode(frame.subarray(i, i + 65536)))
    expect(out.length).toBe(1)
    const decoded = Schema.decodeUnknownSync(Float32ArrayFromBytes)((out[0] as any).data)
    expect(decoded.length).toBe(values.length)
    expect(decoded[12345]).toBe(12345 * 0.5)
  })

  it("refuses a frame over the limit before allocating it", () => {
    const frame = parser().encode({ data: new Uint8Array(1000) }) as Uint8Array
    expect(() => parser(100).decode(frame)).toThrow(/1\d\d\d bytes|BufferSizeExceeded|exceed/)
  })
})

describe("tensor schema", () => {
  it("decodes aligned bytes zero-copy and unaligned bytes by copying", () => {
    const f = Float32Array.of(1, 2, 3)
    const aligned = new Uint8Array(f.buffer)
    expect(Schema.decodeUnknownSync(Float32ArrayFromBytes)(aligned).buffer).toBe(f.buffer)
    const shifted = new Uint8Array(13)
    shifted.set(aligned, 1)
    const copy = Schema.decodeUnknownSync(Float32ArrayFromBytes)(shifted.subarray(1))
    expect([...copy]).toEqual([1, 2, 3])
  })

  it("rejects a byte length that is not a multiple of 4, and a shape that does not match", () => {
    expect(() => Schema.decodeUnknownSync(Float32ArrayFromBytes)(new Uint8Array(5))).toThrow(/multiple of 4/)
    const bytes = new Uint8Array(Float32Array.of(1, 2, 3).buffer)
    expect(() => Schema.decodeUnknownSync(Tensor)({ shape: [2, 2], data: bytes })).toThrow(/holds 4/)
    expect(Schema.decodeUnknownSync(Tensor)({ shape: [3], data: bytes }).data.length).toBe(3)
  })
})
