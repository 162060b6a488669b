import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { isRetiredFrame, releaseTensor, releaseWrittenFrame, takeTensor } from "./buffer-pool.js"
import { Float32ArrayFromBytes } from "./float32-schema.js"
import { lengthPrefixedMsgPack } from "./framing.js"

const N = 100_000 // 400 KB tensors: pooled
const parser = () => lengthPrefixedMsgPack().unsafeMake()
const tensor = (seed: number) => Float32Array.from({ length: N }, (_, i) => seed * 1e6 + i)
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i])

const encoded = (t: Float32Array) => parser().encode({ params: new Uint8Array(t.buffer, t.byteOffset, t.byteLength) }) as Uint8Array

/** Feeds `frame` (or a frame carrying `t`) to `rx` in 64 KB chunks; returns the decoded Float32Array. */
const roundTrip = (rx: ReturnType<typeof parser>, t: Float32Array | Uint8Array): Float32Array => {
  const frame = t instanceof Uint8Array ? t : encoded(t)
  const out: unknown[] = []
  for (let o = 0; o < frame.length; o += 65536) out.push(...rx.decode(frame.subarray(o, o + 65536)))
  return Schema.decodeUnknownSync(Float32ArrayFromBytes)((out[0] as { params: Uint8Array }).params)
}

describe("transport buffer pool", () => {
  it("a received frame is reused only after its tensor is released, and a stale release frees nothing", () => {
    const rx = parser()
    // Encoded up front: send frames come from the same pool.
    const frames = [1, 2, 3, 4].map((seed) => encoded(tensor(seed)))
    const a = roundTrip(rx, frames[0]!)
    const b = roundTrip(rx, frames[1]!)
    expect(b.buffer === a.buffer).toBe(false) // a is still leased
    releaseTensor(a)
    const c = roundTrip(rx, frames[2]!)
    expect(c.buffer === a.buffer).toBe(true) // a's buffer came back
    expect(same(c, tensor(3))).toBe(true)
    releaseTensor(a) // stale: a's lease is spent; c (same buffer) must stay leased
    const d = roundTrip(rx, frames[3]!)
    expect(d.buffer === c.buffer).toBe(false)
    expect(same(c, tensor(3)) && same(d, tensor(4)) && same(b, tensor(2))).toBe(true)
  })

  it("a frame lying inside one chunk is never pooled (the chunk may hold the next frame)", () => {
    const tx = parser()
    const frames = [tensor(5), tensor(6)].map((t) => tx.encode({ params: new Uint8Array(t.buffer) }) as Uint8Array)
    const chunk = Buffer.concat(frames)
    const decoded = parser().decode(chunk) as Array<{ params: Uint8Array }>
    const first = Schema.decodeUnknownSync(Float32ArrayFromBytes)(decoded[0]!.params)
    releaseTensor(first)
    const frame = encoded(tensor(7))
    const next = roundTrip(parser(), frame)
    expect(frame.buffer === chunk.buffer || next.buffer === chunk.buffer).toBe(false)
    expect(same(Schema.decodeUnknownSync(Float32ArrayFromBytes)(decoded[1]!.params), tensor(6))).toBe(true)
  })

  it("a send frame is reused once written, and is refused afterwards; a tensor from takeTensor goes back once encoded", () => {
    const tx = parser()
    const f1 = tx.encode({ params: new Uint8Array(tensor(8).buffer) }) as Uint8Array
    const f2 = tx.encode({ params: new Uint8Array(tensor(9).buffer) }) as Uint8Array
    expect(f2.buffer === f1.buffer).toBe(false)
    expect(isRetiredFrame(f1)).toBe(false)
    releaseWrittenFrame(f1)
    expect(isRetiredFrame(f1)).toBe(true)
    const f3 = tx.encode({ params: new Uint8Array(tensor(10).buffer) }) as Uint8Array
    expect(f3.buffer === f1.buffer).toBe(true)
    releaseWrittenFrame(f1) // stale: f3 stays out of the pool
    expect(isRetiredFrame(f3)).toBe(false)
    const f4 = tx.encode({ params: new Uint8Array(tensor(11).buffer) }) as Uint8Array
    expect(f4.buffer === f3.buffer).toBe(false)

    const reply = takeTensor(N)
    reply.set(tensor(12))
    const encoded = Schema.encodeSync(Float32ArrayFromBytes)(reply)
    const frame = tx.encode({ center: encoded }) as Uint8Array
    const again = takeTensor(N)
    expect(again.buffer === reply.buffer).toBe(true) // released by the encoder after copying
    again.fill(0)
    const decoded = parser().decode(frame) as Array<{ center: Uint8Array }>
    expect(same(Schema.decodeUnknownSync(Float32ArrayFromBytes)(decoded[0]!.center), tensor(12))).toBe(true)
  })
})
