import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { Float32ArrayFromBytes, Tensor } from "./float32-schema.js"
import { lengthPrefixedMsgPack, TENSOR_MIN_BYTES } from "./framing.js"

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

  it("large byte arrays travel 8-aligned in the tensor section: decoded from assembled chunks without a copy", () => {
    const a = new Float32Array(3001).map((_, i) => i - 0.25)
    const b = new Float32Array(700).map((_, i) => -i)
    const small = new Uint8Array([9, 8, 7])
    const msg = { _tag: "Request", id: 7n, payload: { params: new Uint8Array(a.buffer), nested: [{ t: new Uint8Array(b.buffer, 4, 2796) }, small], a2: new Uint8Array(a.buffer) } }
    const frame = parser().encode(msg) as Uint8Array
    // the frame owns its buffer, and the sender's message is untouched
    expect(frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength).toBe(true)
    expect(msg.payload.params).toBeInstanceOf(Uint8Array)
    const rx = parser()
    const out: unknown[] = []
    for (let i = 0; i < frame.length; i += 1000) out.push(...rx.decode(frame.subarray(i, i + 1000)))
    expect(out.length).toBe(1)
    const got = out[0] as any
    expect(got.id).toBe(7n)
    const params = Schema.decodeUnknownSync(Float32ArrayFromBytes)(got.payload.params)
    expect(params.buffer).toBe(got.payload.params.buffer) // zero-copy view
    expect(params.byteOffset % 8).toBe(0)
    expect([...params]).toEqual([...a])
    expect([...Schema.decodeUnknownSync(Float32ArrayFromBytes)(got.payload.a2)]).toEqual([...a])
    expect([...Schema.decodeUnknownSync(Float32ArrayFromBytes)(got.payload.nested[0].t)]).toEqual([...b.subarray(1, 700)])
    expect([...got.payload.nested[1]]).toEqual([9, 8, 7])
  })

  it("a tensor reference outside its frame is an error, not a read past the frame", () => {
    const frame = parser().encode({ data: new Uint8Array(4096) }) as Uint8Array
    // Cut the tensor section short and fix the length prefix: the reference now points past the end.
    const cut = frame.slice(0, frame.length - 8)
    cut[0] = 0
    cut[1] = ((cut.length - 4) >>> 16) & 0xff
    cut[2] = ((cut.length - 4) >>> 8) & 0xff
    cut[3] = (cut.length - 4) & 0xff
    expect(() => parser().decode(cut)).toThrow(/runs past the frame/)
  })

  it("random frames cut at random places decode intact, and earlier tensors stay intact after later frames", () => {
    let s = 12345
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296)
    const tx = parser()
    const rx = parser()
    const sent: Array<{ seq: number; data: Float32Array }> = []
    const decoded: Array<{ seq: number; data: Uint8Array }> = []
    for (let round = 0; round < 40; round++) {
      // A burst of frames of mixed sizes (inline bins, just over the tensor threshold, multi-chunk).
      const frames: Uint8Array[] = []
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
        const sizes = [1, TENSOR_MIN_BYTES / 4 - 1, TENSOR_MIN_BYTES / 4, 5000, 70_000]
        const n = sizes[Math.floor(rnd() * sizes.length)]!
        const data = new Float32Array(n).map((_, i) => sent.length * 1000 + i + 0.5)
        sent.push({ seq: sent.length, data })
        frames.push(tx.encode({ seq: sent.length - 1, data: new Uint8Array(data.buffer), tag: "x".repeat(Math.floor(rnd() * 9)) }) as Uint8Array)
      }
      const wire = Buffer.concat(frames)
      for (let o = 0; o < wire.length; ) {
        const r = rnd()
        const size = r < 0.3 ? 1 + Math.floor(rnd() * 8) : r < 0.7 ? 1 + Math.floor(rnd() * 3000) : 1 + Math.floor(rnd() * 100_000)
        for (const m of rx.decode(wire.subarray(o, o + size)) as Array<{ seq: number; data: Uint8Array }>) decoded.push(m)
        o += size
      }
    }
    expect(decoded.map((d) => d.seq)).toEqual(sent.map((d) => d.seq))
    const firstMismatch = (a: Float32Array, b: Float32Array) => (a.length !== b.length ? -2 : a.findIndex((v, i) => v !== b[i]))
    expect(decoded.map((d) => firstMismatch(Schema.decodeUnknownSync(Float32ArrayFromBytes)(d.data), sent[d.seq]!.data))).toEqual(decoded.map(() => -1))
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
