/**
 * Transport soak tests: hundreds of LeNet-sized exchanges on one connection, every tensor checked end
 * to end (see support/transport-soak.ts), over TCP with frames cut at random places, and over the
 * MessagePorts local mode uses — with a worker thread killed mid-run and replaced, as the supervisor
 * does. A reverted transport change once broke long local runs after ~30 exchanges; these would say
 * which tensor went wrong, and where.
 */
import { RpcServer } from "@effect/rpc"
import { SocketServer } from "@effect/platform"
import { Effect, Layer } from "effect"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { MessageChannel, Worker } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { poolStats } from "../src/transport/buffer-pool.js"
import { layerLengthPrefixedMsgPack } from "../src/transport/framing.js"
import { makeMessagePortSocketServer } from "../src/transport/message-port-socket.js"
import { CenterRpcs } from "../src/transport/protocol.js"
import { layerCenterClientProtocolTcp, makeCenterClient, serveCenterRpcsTcp } from "../src/transport/tcp.js"
import { chunkingProxy, LENET_PARAMS, makeSoakHandlers, soakWorker, type SoakWorkerResult } from "./support/transport-soak.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const bootstrap = new URL("../src/local/worker-bootstrap.mjs", import.meta.url)
const soakWorkerEntry = pathToFileURL(path.join(here, "support/transport-soak-worker.ts")).href

describe("transport soak: LeNet-sized exchanges checked end to end", () => {
  it("TCP: 300 exchanges (two interleaved workers) on one connection whose frames are cut at random places", async () => {
    const soak = makeSoakHandlers(LENET_PARAMS)
    const reusesBefore = poolStats().reuses
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const center = yield* serveCenterRpcsTcp({ host: "127.0.0.1", port: 0 }, soak.layer)
        const proxy = yield* chunkingProxy({ host: "127.0.0.1", port: center.port }, 1234)
        const results = yield* Effect.gen(function* () {
          const client = yield* makeCenterClient
          return yield* Effect.all(
            ["a", "b"].map((workerId) => soakWorker(client, { workerId, n: LENET_PARAMS, exchanges: 150 })),
            { concurrency: "unbounded" }
          )
        }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port: proxy.port })))
        return { results, pieces: proxy.pieces() }
      }).pipe(Effect.scoped)
    )
    expect(soak.stats.errors).toEqual([])
    expect(out.results.map((r) => [r.firstSeq, r.lastSeq])).toEqual([
      [1, 150],
      [1, 150]
    ])
    expect(soak.stats.verified.get("a")).toBe(150)
    expect(soak.stats.verified.get("b")).toBe(150)
    expect(soak.stats.heartbeats).toBeGreaterThan(10)
    expect(out.pieces).toBeGreaterThan(3000) // 600 frames of 1.7 MB, re-cut
    // Buffers were recycled all along: send frames, received frames, replies (both ends share this pool).
    expect(poolStats().reuses - reusesBefore).toBeGreaterThan(900)
  }, 120_000)

  it("MessagePorts (local mode): two worker threads, 300 exchanges, and a third killed mid-run and replaced", async () => {
    const soak = makeSoakHandlers(LENET_PARAMS)
    type Outcome = { result?: SoakWorkerResult; failed?: string; code: number; seqs: number[] }
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const { server, accept } = yield* makeMessagePortSocketServer
        yield* Layer.build(
          RpcServer.layer(CenterRpcs, { concurrency: "unbounded" }).pipe(
            Layer.provide(soak.layer),
            Layer.provide(RpcServer.layerProtocolSocketServer),
            Layer.provide(Layer.succeed(SocketServer.SocketServer, server)),
            Layer.provide(layerLengthPrefixedMsgPack())
          )
        )
        /** Runs one soak worker thread; `killAfter` terminates it once that seq is done (mid-next-exchange). */
        const thread = (workerId: string, exchanges: number, killAfter?: number) =>
          Effect.async<Outcome>((resume) => {
            const { port1, port2 } = new MessageChannel()
            accept(port1)
            const worker = new Worker(bootstrap, {
              workerData: { entry: soakWorkerEntry, port: port2, workerId, n: LENET_PARAMS, exchanges },
              transferList: [port2]
            })
            const outcome: Outcome = { code: -1, seqs: [] }
            worker.on("message", (m: { type: string; seq?: number; result?: SoakWorkerResult; message?: string }) => {
              if (m.type === "exchange") {
                outcome.seqs.push(m.seq!)
                if (m.seq === killAfter) setTimeout(() => void worker.terminate(), 3)
              }
              if (m.type === "done") outcome.result = m.result!
              if (m.type === "failed") outcome.failed = m.message!
            })
            worker.on("exit", (code) => {
              port1.close()
              resume(Effect.succeed({ ...outcome, code }))
            })
          })
        const [a, b, killed] = yield* Effect.all([thread("a", 150), thread("b", 150), thread("c", 1000, 10)], { concurrency: "unbounded" })
        const replaced = yield* thread("c", 20)
        return { a, b, killed, replaced }
      }).pipe(Effect.scoped)
    )
    expect(soak.stats.errors).toEqual([])
    for (const o of [out.a, out.b, out.replaced]) {
      expect(o.failed).toBeUndefined()
      expect(o.code).toBe(0)
    }
    expect(out.a.result!.lastSeq).toBe(150)
    expect(out.b.result!.lastSeq).toBe(150)
    expect(out.killed.code).toBe(1) // terminated
    expect(out.killed.seqs.at(-1)).toBeGreaterThanOrEqual(10)
    // The replacement resumes after the last exchange the center verified from the killed thread.
    const verifiedBeforeKill = out.replaced.result!.firstSeq - 1
    expect(verifiedBeforeKill).toBeGreaterThanOrEqual(10)
    expect(out.replaced.result!.lastSeq).toBe(verifiedBeforeKill + 20)
    expect(soak.stats.verified.get("a")).toBe(150)
    expect(soak.stats.verified.get("c")).toBe(verifiedBeforeKill + 20)
    expect(soak.stats.registrations).toBe(4)
  }, 120_000)
})
