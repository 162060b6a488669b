import { MessageChannel } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { lengthPrefixedMsgPack } from "./framing.js"
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
})
