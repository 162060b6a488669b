import { describe, expect, it } from "vitest"
import { isReceiveBuffer } from "./buffer-pool.js"
import { frameReader } from "./tcp-socket.js"

const frameOf = (length: number, fill: number): Buffer => {
  const f = Buffer.alloc(4 + length, fill)
  f.writeUInt32BE(length, 0)
  return f
}

/** Plays `wire` into a frameReader in reads of random sizes, as Node's onread does. */
const readAll = (wire: Buffer, maxFrameBytes: number, seed: number) => {
  let s = seed
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296)
  const frames: Uint8Array[] = []
  const reader = frameReader((f) => frames.push(f), maxFrameBytes)
  for (let o = 0; o < wire.length; ) {
    const target = reader.buffer()
    const r = rnd()
    const want = r < 0.3 ? 1 + Math.floor(rnd() * 6) : r < 0.6 ? 1 + Math.floor(rnd() * 5000) : target.length
    const n = Math.min(target.length, want, wire.length - o)
    wire.copy(target, 0, o, o + n)
    reader.callback(n)
    o += n
  }
  return frames
}

describe("frame reader (client sockets read frames straight into receive buffers)", () => {
  it("emits every frame whole, whatever the read sizes; large ones in receive buffers of their own", () => {
    const lengths = [0, 5, 60_000, 70_000, 3, 1_000_000, 65_532, 65_533, 200_000, 10]
    const wire = Buffer.concat(lengths.map((n, i) => frameOf(n, i + 1)))
    for (let seed = 1; seed <= 5; seed++) {
      const frames = readAll(wire, 1 << 24, seed)
      expect(frames.map((f) => f.length)).toEqual(lengths.map((n) => n + 4))
      frames.forEach((f, i) => {
        expect(Buffer.from(f.buffer, f.byteOffset, f.byteLength).readUInt32BE(0)).toBe(lengths[i])
        expect(f.subarray(4).every((v) => v === i + 1)).toBe(true)
      })
      // Frames that do not fit the staging buffer were read into receive buffers (no copy).
      expect(frames.filter((f) => isReceiveBuffer(f)).map((f) => f.length - 4)).toEqual([70_000, 1_000_000, 65_533, 200_000])
    }
  })

  it("passes an oversized frame on as its length alone (the decoder refuses it) and skips its bytes", () => {
    const wire = Buffer.concat([frameOf(10, 1), frameOf(300_000, 2), frameOf(20, 3)])
    const frames = readAll(wire, 100_000, 7)
    expect(frames.map((f) => f.length)).toEqual([14, 4, 24])
    expect(Buffer.from(frames[1]!).readUInt32BE(0)).toBe(300_000)
    expect(frames[2]!.subarray(4).every((v) => v === 3)).toBe(true)
  })
})
