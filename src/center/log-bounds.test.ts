import net from "node:net"
import { Packr, Unpackr } from "msgpackr"
import { describe, expect, it } from "vitest"
import { makeEasgdSettings } from "../easgd/settings.js"
import { packFrame, unpackFrame } from "../transport/framing.js"
import { syntheticCenterJob } from "../simulator/synthetic-center-job.js"
import { runCenter } from "./run-center.js"

/**
 * What a peer sends ends up in the center's log only bounded: a worker id of a megabyte sent with a
 * wrong token does not even get read (a frame too large before authenticating), one of 60 KB is refused
 * by its length (every string in CenterRpcs has a limit), and nothing logged is longer than a line.
 */
/** Sends one Register request as a raw frame; resolves with the first reply frame as JSON, or "dropped". */
const rawRequest = (port: number, payload: unknown): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () =>
      socket.write(packFrame(new Packr({ useRecords: false, moreTypes: false }), { _tag: "Request", id: "1", tag: "Register", payload, headers: [] }))
    )
    let got = Buffer.alloc(0)
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        socket.destroy()
        resolve(JSON.stringify(unpackFrame(new Unpackr({ useRecords: false, moreTypes: false }), got.subarray(0, 4 + got.readUInt32BE(0)))))
      }
    })
    // An unauthenticated connection that sends a large frame is dropped (admission.ts).
    socket.on("error", () => resolve("dropped"))
    socket.on("close", () => resolve("dropped"))
  })

describe("strings from peers in the center's log", () => {
  it("worker ids of 1 MB, 60 KB and 250 characters with a wrong token: refused, and the log stays small", async () => {
    const lines: string[] = []
    const controller = new AbortController()
    let onPort: (port: number) => void = () => {}
    const port = new Promise<number>((resolve) => (onPort = resolve))
    const job = syntheticCenterJob({ problemSeed: 3 })
    const run = runCenter({
      job,
      token: "tok",
      host: "127.0.0.1",
      port: 0,
      settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }),
      workers: 1,
      log: (line) => lines.push(line),
      onListening: (a) => onPort(a.port),
      signal: controller.signal
    })
    // Sent raw, as an attacker would: the typed client refuses to encode such a payload at all.
    const replies = await Promise.all([
      rawRequest(await port, { workerId: "w".repeat(1 << 20), token: "wrong", paramCount: job.paramCount, partition: { index: 0, count: 1 } }),
      // Small enough a frame for an unauthenticated connection: refused by the id's length.
      rawRequest(await port, { workerId: "u".repeat(60_000), token: "wrong", paramCount: job.paramCount, partition: { index: 0, count: 1 } }),
      // Under the limit, the id still appears in the log line only cut short.
      rawRequest(await port, { workerId: "v".repeat(250), token: "wrong", paramCount: job.paramCount, partition: { index: 0, count: 1 } })
    ])
    controller.abort()
    await run
    expect(replies[0]).toBe("dropped")
    expect(replies[1]).toMatch(/a string of 60000 characters \(at most 256\)/)
    expect(replies[1].length).toBeLessThan(2000)
    expect(replies[2]).toMatch(/authentication failed/)
    const logged = lines.join("\n")
    expect(logged.length).toBeLessThan(4000)
    for (const line of lines) expect(line.length).toBeLessThan(600)
    expect(logged).toMatch(/Rejected a request from "v{120}… \(250 characters\)": auth/)
  }, 30_000)
})
