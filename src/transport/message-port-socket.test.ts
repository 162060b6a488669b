import { MessageChannel } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { poolStats, releaseTensor } from "./buffer-pool.js"
import { Float32ArrayFromBytes } from "./float32-schema.js"
import { lengthPrefixedMsgPack } from "./framing.js"
import { Schema } from "effect"
import { messagePortDuplex } from "./message-port-socket.js"

/** The first n messages decoded from the stream; fails naming how many arrived if they do not within 5 s. */
const received = (n: number, decode: (b: Uint8Array) => ReadonlyArray<unknown>, stream: NodeJS.ReadableStream) =>
  new Promise<unknown[]>((resolve, reject) => {
    const out: unknown[] = []
    const timer = setTimeout(() => reject(new Error(`only ${out.length} of ${n} frames arrived`)), 5000)
    stream.on("data", (b: Uint8Array) => {
      out.push(...decode(b))
      if (out.length === n) {
        clearTimeout(timer)
        resolve(out)
      }
    })
  })

describe("MessagePort byte stream", () => {
  it("a small encoded frame can be written again (the RPC client's pinger encodes its Ping once and writes it every 10 s); a pooled one cannot", async () => {
    const { port1, port2 } = new MessageChannel()
    const tx = messagePortDuplex(port1)
    const rx = messagePortDuplex(port2)
    const serialization = lengthPrefixedMsgPack()
    const encoder = serialization.unsafeMake()
    const decoder = serialization.unsafeMake()
    const ping = encoder.encode({ _tag: "Ping" }) as Uint8Array
    const tensor = new Float32Array(100_000).map((_, i) => i * 0.5)
    const big = encoder.encode({ _tag: "Request", payload: { params: new Uint8Array(tensor.buffer) } }) as Uint8Array
    const got = received(4, (b) => decoder.decode(b), rx)
    const write = (stream: NodeJS.WritableStream, frame: Uint8Array) => new Promise<void>((r, j) => stream.write(frame, (e) => (e ? j(e) : r())))
    for (const frame of [ping, big, ping, ping]) await write(tx, frame)
    const messages = (await got) as Array<{ _tag: string; payload?: { params: Uint8Array } }>
    expect(messages.map((m) => m._tag)).toEqual(["Ping", "Request", "Ping", "Ping"])
    const p = messages[1]!.payload!.params
    expect(p.byteLength).toBe(400_000)
    expect(new Float32Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength))).toEqual(tensor)
    expect(ping.byteLength).toBeGreaterThan(4) // intact, not detached by a transfer
    tx.destroy()
    rx.destroy()

    // A large frame comes from the buffer pool and went back once written: writing it again is refused
    // (its buffer may hold another message by now), never sent as whatever it holds.
    const other = new MessageChannel()
    const tx2 = messagePortDuplex(other.port1)
    tx2.on("error", () => {})
    await expect(write(tx2, big)).rejects.toThrow(/written again after it had been released/)
    other.port2.close()
  })

  it("large messages reuse pooled buffers both ways once their tensors are released, and a tensor still held is never overwritten", async () => {
    const { port1, port2 } = new MessageChannel()
    const a = messagePortDuplex(port1)
    const b = messagePortDuplex(port2)
    const serialization = lengthPrefixedMsgPack()
    const [encA, decA, encB, decB] = [0, 1, 2, 3].map(() => serialization.unsafeMake())
    const toFloats = Schema.decodeSync(Float32ArrayFromBytes)
    const write = (stream: NodeJS.WritableStream, frame: Uint8Array) => new Promise<void>((r, j) => stream.write(frame, (e) => (e ? j(e) : r())))
    const n = 431_080 // LeNet's parameters
    const message = (tag: number) => ({ _tag: "Exchange", payload: { params: new Uint8Array(new Float32Array(n).fill(tag).buffer) } })
    /** One round trip: a → b (b reads its tensor), then b → a; each side releases what it read unless told to hold it. */
    const roundTrip = async (tag: number, hold = false) => {
      const atB = received(1, (x) => decB!.decode(x), b)
      await write(a, encA!.encode(message(tag)) as Uint8Array)
      const request = toFloats(((await atB)[0] as { payload: { params: Uint8Array } }).payload.params)
      b.removeAllListeners("data")
      expect(request[0]).toBe(tag)
      expect(request[n - 1]).toBe(tag)
      if (!hold) releaseTensor(request)
      const atA = received(1, (x) => decA!.decode(x), a)
      await write(b, encB!.encode(message(tag + 0.5)) as Uint8Array)
      const reply = toFloats(((await atA)[0] as { payload: { params: Uint8Array } }).payload.params)
      a.removeAllListeners("data")
      expect(reply[n - 1]).toBe(tag + 0.5)
      if (!hold) releaseTensor(reply)
      return { request, reply }
    }
    for (let i = 0; i < 3; i++) await roundTrip(i) // fills the pools
    const before = poolStats().reuses
    for (let i = 3; i < 13; i++) await roundTrip(i)
    // Per round trip: two send frames and two transfer buffers, every one of them reused.
    expect(poolStats().reuses - before).toBeGreaterThanOrEqual(4 * 10)
    const held = await roundTrip(100, true)
    for (let i = 101; i < 105; i++) await roundTrip(i)
    expect(held.request.every((v) => v === 100)).toBe(true)
    expect(held.reply.every((v) => v === 100.5)).toBe(true)
    a.destroy()
    b.destroy()
  })
})
