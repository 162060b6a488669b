import net from "node:net"
import v8 from "node:v8"
import vm from "node:vm"
import { Effect } from "effect"
import { Packr } from "msgpackr"
import { describe, expect, it } from "vitest"
import { layerCenter } from "../center/center-service.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import type { AdmissionLimits } from "./admission.js"
import { packFrame } from "./framing.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "./tcp.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"

/**
 * Memory before authentication (admission.ts): unauthenticated connections cannot make the center
 * buffer large frames, are dropped when idle, and are bounded per address; a real worker gets through.
 */
v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const PARAMS = 100_000 // 400 KB tensors: above the 64 KiB an unauthenticated connection may send

const withCenter = <A, E>(admission: AdmissionLimits, body: (port: number) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0, admission })
    return yield* body(port)
  }).pipe(
    Effect.scoped,
    Effect.provide(layerCenter({ token: "tok", settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }), workers: 1, initial: new Float32Array(PARAMS) }))
  )

/** A raw connection; `closed` resolves when the server drops it (or it ends). */
const connect = (port: number) =>
  new Promise<{ socket: net.Socket; closed: Promise<void> }>((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    const closed = new Promise<void>((done) => socket.on("close", () => done()))
    socket.on("error", () => {})
    socket.once("connect", () => resolve({ socket, closed }))
    socket.once("error", reject)
  })

const within = <A>(p: Promise<A>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))])

const frame = (message: unknown) => packFrame(new Packr({ useRecords: false, moreTypes: false }), message)

describe("connections that have not authenticated", () => {
  it("three unfinished 300 MB frames: dropped at once, and the center holds on to none of their bytes", async () => {
    const result = await Effect.runPromise(
      withCenter({}, (port) =>
        Effect.promise(async () => {
          gc()
          const before = process.memoryUsage().arrayBuffers
          const conns = await Promise.all([0, 1, 2].map(() => connect(port)))
          // One buffer written over and over: what this side queues costs nothing, what grows is the server's.
          const body = Buffer.alloc(64 * 1024, 7)
          for (const { socket } of conns) {
            const prefix = Buffer.alloc(4)
            prefix.writeUInt32BE(300 * 1024 * 1024)
            socket.write(prefix)
            // 8 MB of the body, as fast as the socket takes it (writes after the drop fail quietly).
            for (let i = 0; i < 128; i++) socket.write(body)
          }
          const dropped = await Promise.all(conns.map((c) => within(c.closed, 5000)))
          gc()
          return { dropped, grown: process.memoryUsage().arrayBuffers - before }
        })
      )
    )
    expect(result.dropped).toEqual([true, true, true])
    expect(result.grown).toBeLessThan(4 * 1024 * 1024)
  }, 30_000)

  it("an idle connection is dropped after the timeout; beyond the bound per address the oldest go first", async () => {
    const result = await Effect.runPromise(
      withCenter({ authTimeoutMs: 300, maxUnauthenticatedPerAddress: 3 }, (port) =>
        Effect.promise(async () => {
          const conns: Array<{ socket: net.Socket; closed: Promise<void> }> = []
          for (let i = 0; i < 5; i++) conns.push(await connect(port))
          const early = await Promise.all(conns.map((c) => within(c.closed, 150)))
          const late = await Promise.all(conns.map((c) => within(c.closed, 3000)))
          return { early, late }
        })
      )
    )
    // The two oldest make room for newer ones at once; the rest go when their time is up.
    expect(result.early).toEqual([true, true, false, false, false])
    expect(result.late).toEqual([true, true, true, true, true])
  }, 30_000)

  it("a real worker gets through 20 idle connections, and a large first frame with the token is taken", async () => {
    const result = await Effect.runPromise(
      withCenter({ maxUnauthenticatedPerAddress: 8 }, (port) =>
        Effect.gen(function* () {
          const idle = yield* Effect.promise(() => Promise.all(Array.from({ length: 20 }, () => connect(port))))
          const exchanged = yield* Effect.gen(function* () {
            const c = yield* makeCenterClient
            const r = yield* c.Register({ workerId: "w0", token: "tok", paramCount: PARAMS, partition: { index: 0, count: 1 } })
            const x = yield* c.Exchange({ workerId: "w0", incarnation: r.incarnation, token: "tok", seq: 1, clock: 5, params: new Float32Array(PARAMS).fill(1), lossSum: 1, iterations: 5, cursor: null })
            return x.center.length
          }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))
          // An Exchange as the first frame of a connection (a worker whose connection was re-made): its
          // header carries the token, so its 400 KB body is read and answered.
          const answer = yield* Effect.promise(async () => {
            const { socket, closed } = await connect(port)
            const replied = new Promise<boolean>((resolve) => socket.once("data", () => resolve(true)))
            const params = new Uint8Array(PARAMS * 4)
            socket.write(frame({ _tag: "Request", id: "1", tag: "Exchange", headers: [], payload: { workerId: "w0", incarnation: 1, token: "tok", seq: 2, clock: 10, params, lossSum: 1, iterations: 5, cursor: null } }))
            const ok = await Promise.race([replied, closed.then(() => false)])
            socket.destroy()
            return ok
          })
          for (const c of idle) c.socket.destroy()
          return { exchanged, answer }
        })
      )
    )
    expect(result.exchanged).toBe(PARAMS)
    expect(result.answer).toBe(true)
  }, 30_000)
})
