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
  it("an encoded frame can be written again: the RPC client's pinger encodes its Ping once and writes it every 10 s", async () => {
    const { port1, port2 } = new MessageChannel()
    const tx = messagePortDuplex(port1)
    const rx = messagePortDuplex(port2)
    const serialization = lengthPrefixedMsgPack()
    const encoder = serialization.unsafeMake()
    const decoder = serialization.unsafeMake()
    const ping = encoder.encode({ _tag: "Ping" }) as Uint8Array
    const tensor = new Float32Array(100_000).map((_, i) => i * 0.5)
    const big = encoder.encode({ _tag: "Request", payload: { params: new Uint8Array(tensor.buffer) } }) as Uint8Array
    const got = received(5, (b) => decoder.decode(b), rx)
    for (const frame of [ping, big, ping, big, ping]) await new Promise<void>((r, j) => tx.write(frame, (e) => (e ? j(e) : r())))
    const messages = (await got) as Array<{ _tag: string; payload?: { params: Uint8Array } }>
    expect(messages.map((m) => m._tag)).toEqual(["Ping", "Request", "Ping", "Request", "Ping"])
    for (const m of [messages[1]!, messages[3]!]) {
      const p = m.payload!.params
      expect(p.byteLength).toBe(400_000)
      expect(new Float32Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength))).toEqual(tensor)
    }
    // The sender's frames are intact (not detached by a transfer).
    expect(ping.byteLength).toBeGreaterThan(4)
    expect(big.byteLength).toBeGreaterThan(400_000)
    tx.destroy()
    rx.destroy()
  })
})
