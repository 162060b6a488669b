/**
 * Transport soak tests: hundreds of LeNet-sized exchanges on one connection, every tensor checked end
 * to end (see support/transport-soak.ts), over TCP with frames cut at random places, and over the
 * MessagePorts local mode uses — with a worker thread killed mid-run and replaced, as the supervisor
 * does. A reverted transport change once broke long local runs after ~30 exchanges; these would say
 * which tensor went wrong, and where.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { poolStats } from "../src/transport/buffer-pool.js"
import { layerCenterClientProtocolTcp, makeCenterClient, serveCenterRpcsTcp } from "../src/transport/tcp.js"
import { chunkingProxy, LENET_PARAMS, makeSoakHandlers, serveSoakOverMessagePorts, soakWorker } from "./support/transport-soak.js"

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

  it("MessagePorts (local mode): 300 exchanges on one port, while another worker thread is killed mid-run and replaced", async () => {
    const soak = makeSoakHandlers(LENET_PARAMS)
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const thread = yield* serveSoakOverMessagePorts(soak)
        const [a, [killed, replaced]] = yield* Effect.all(
          [thread("a", 300), Effect.all([thread("c", 1000, { killAfter: 10 }), thread("c", 20)])],
          { concurrency: "unbounded" }
        )
        return { a, killed, replaced }
      }).pipe(Effect.scoped)
    )
    expect(soak.stats.errors).toEqual([])
    for (const o of [out.a, out.replaced]) {
      expect(o.failed).toBeUndefined()
      expect(o.code).toBe(0)
    }
    expect(out.a.result!.lastSeq).toBe(300)
    expect(out.killed.code).toBe(1) // terminated
    expect(out.killed.seqs.at(-1)).toBeGreaterThanOrEqual(10)
    // The replacement resumes after the last exchange the center verified from the killed thread.
    const verifiedBeforeKill = out.replaced.result!.firstSeq - 1
    expect(verifiedBeforeKill).toBeGreaterThanOrEqual(10)
    expect(out.replaced.result!.lastSeq).toBe(verifiedBeforeKill + 20)
    expect(soak.stats.verified.get("a")).toBe(300)
    expect(soak.stats.verified.get("c")).toBe(verifiedBeforeKill + 20)
    expect(soak.stats.registrations).toBe(3)
  }, 120_000)
})
