import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { createLmdb, Dataset, encodeDatum, keyText, openLmdb, type StagingFetcher, type StagingRef, stageRemotePartition } from "@deepspark/data"
import { Effect, Exit, Scope } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { layerStagingClientProtocolTcp, makeStagingClient, rpcStagingFetcher, stageOverTcp, type StagingClient } from "./client.js"
import { Rng } from "@deepspark/engine"
import { layerCenter } from "../center/center-service.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../transport/tcp.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"
import { serveStagingTcp } from "./server.js"

const root = mkdtempSync(path.join(os.tmpdir(), "deepspark-staging-tcp-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
{
  const db = createLmdb(path.join(root, "train_lmdb"))
  for (let i = 0; i < 400; i++) {
    const data = new Uint8Array(64).map((_, j) => (i * 13 + j) & 0xff)
    db.putSync(String(i).padStart(8, "0"), encodeDatum({ channels: 1, height: 8, width: 8, data, label: i % 10 }))
  }
  await db.close()
}
const ref: StagingRef = { source: "train_lmdb", backend: "lmdb", index: 2, count: 4, mode: "range" }
// A record is 8 + 8-byte key + its Datum (~75 bytes): 1,000 bytes a chunk is about 11 records.
const CHUNK = 1000

const sourcePartition = async () => {
  const whole = await Dataset.lmdb(path.join(root, "train_lmdb"))
  const raw = openLmdb(path.join(root, "train_lmdb"))
  const part = whole.partition(4)[2]!
  const out = Array.from({ length: part.size }, (_, i) => ({ key: part.keyAt(i), value: Buffer.from(raw.get(part.keyAt(i))!) }))
  await whole.close()
  await raw.close()
  return out
}
const readLmdb = async (dir: string) => {
  const db = openLmdb(dir)
  const out = [...db.range()].map((r) => ({ key: keyText(r.key), value: Buffer.from(r.value) }))
  await db.close()
  return out
}

/** Starts a staging server in its own scope (so a test can take it away mid-transfer). */
const startServer = async (token = "tok") => {
  const scope = await Effect.runPromise(Scope.make())
  const { port } = await Effect.runPromise(Scope.extend(serveStagingTcp({ host: "127.0.0.1", port: 0, token, root }), scope))
  return { port, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const withClient = <A, E>(port: number, use: (c: StagingClient) => Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* use(yield* makeStagingClient)
    }).pipe(Effect.scoped, Effect.provide(layerStagingClientProtocolTcp({ host: "127.0.0.1", port })))
  )

/** Counts the chunks that cross the wire; `before(n)` runs before the n-th chunk request (1-based). */
const counting = <E>(inner: StagingFetcher<E>, before?: (n: number) => Promise<void>) => {
  const stats = { chunks: 0, froms: [] as Array<number> }
  const f: StagingFetcher<E> = {
    manifest: (r) => inner.manifest(r),
    chunk: (r, from, maxBytes) =>
      Effect.promise(async () => before?.(stats.chunks + 1)).pipe(
        Effect.zipRight(inner.chunk(r, from, maxBytes)),
        Effect.tap(() => Effect.sync(() => (stats.chunks++, stats.froms.push(from))))
      )
  }
  return { f, stats }
}

describe("staging a partition over TCP (StagingRpcs)", () => {
  it("stages partition 2/4 of an LMDB record for record, then a second call returns without the server", async () => {
    const server = await startServer()
    const target = path.join(root, "w2_lmdb")
    const first = await withClient(server.port, (c) => {
      const { f, stats } = counting(rpcStagingFetcher(c, { token: "tok", address: "loopback" }))
      return stageRemotePartition({ fetcher: f, worker: "w2", ref, target, chunkBytes: CHUNK }).pipe(Effect.map((r) => ({ r, stats })))
    })
    expect(first.r.manifest).toMatchObject({ partition: "train_lmdb#range-2-of-4", count: 100, firstKey: "00000200", lastKey: "00000299" })
    expect(first.stats.chunks).toBeGreaterThanOrEqual(9)
    expect(first.stats.froms).toEqual([...first.stats.froms].sort((x, y) => x - y))
    expect(await readLmdb(target)).toEqual(await sourcePartition())
    await server.close()
    const again = await Effect.runPromise(stageOverTcp({ host: "127.0.0.1", port: server.port, token: "tok", worker: "w2", ref, target }))
    expect(again.alreadyStaged).toBe(true)
  })

  it("survives the server going away mid-transfer: a new server finishes it, completed chunks are not fetched again", async () => {
    const target = path.join(root, "w2b_lmdb")
    const a = await startServer()
    const broken = await withClient(a.port, (c) => {
      const { f, stats } = counting(rpcStagingFetcher(c, { token: "tok", address: "loopback", callTimeoutMs: 1500 }), async (n) => {
        if (n === 4) await a.close()
      })
      return stageRemotePartition({ fetcher: f, worker: "w2", ref, target, chunkBytes: CHUNK }).pipe(
        Effect.flip,
        Effect.map((e) => ({ e, stats }))
      )
    })
    expect(broken.stats.chunks).toBe(3)
    const perChunk = broken.stats.froms[1]! - broken.stats.froms[0]!
    const resumeAt = broken.stats.froms[2]! + perChunk
    expect(broken.e.message).toMatch(new RegExp(`range partition 2/4 of train_lmdb.*from ${resumeAt} failed after 3 chunk\\(s\\) \\(${resumeAt} of 100 records staged`))

    const b = await startServer()
    const done = await withClient(b.port, (c) => {
      const { f, stats } = counting(rpcStagingFetcher(c, { token: "tok", address: "loopback" }))
      return stageRemotePartition({ fetcher: f, worker: "w2", ref, target, chunkBytes: CHUNK }).pipe(Effect.map((r) => ({ r, stats })))
    })
    await b.close()
    expect(done.r.resumedFrom).toBe(resumeAt)
    expect(done.stats.froms[0]).toBe(resumeAt)
    expect(broken.stats.chunks + done.stats.chunks).toBe(Math.ceil(100 / perChunk))
    expect(await readLmdb(target)).toEqual(await sourcePartition())
  })

  it("rejects a wrong token, a path outside the server's folder, a missing database and a chunk out of range", async () => {
    const server = await startServer("s3cret")
    const out = await withClient(server.port, (c) =>
      Effect.all({
        token: c.PartitionManifest({ token: "nope", ...ref }).pipe(Effect.flip),
        escape: c.PartitionManifest({ token: "s3cret", ...ref, source: "../elsewhere_lmdb" }).pipe(Effect.flip),
        missing: c.PartitionManifest({ token: "s3cret", ...ref, source: "missing_lmdb" }).pipe(Effect.flip),
        range: c.PartitionChunk({ token: "s3cret", ...ref, from: 100, maxBytes: CHUNK }).pipe(Effect.flip)
      })
    )
    const staged = await Effect.runPromise(
      stageOverTcp({ host: "127.0.0.1", port: server.port, token: "wrong", worker: "w9", ref, target: path.join(root, "w9_lmdb") }).pipe(Effect.flip)
    )
    await server.close()
    expect(out.token).toMatchObject({ _tag: "StagingRejected", reason: "auth" })
    expect(out.escape).toMatchObject({ reason: "bad-request", message: expect.stringMatching(/must be a path inside/) })
    expect(out.missing).toMatchObject({ reason: "not-found", message: expect.stringMatching(/missing_lmdb/) })
    expect(out.range).toMatchObject({ reason: "bad-request", message: expect.stringMatching(/chunk start 100 outside \[0, 100\)/) })
    expect(staged.message).toMatch(/worker "w9" staging range partition 2\/4 of train_lmdb.*StagingRejected \(auth\): wrong staging token/)
  })

  it("runs beside the center in one process, each on its own port, with the same token", async () => {
    const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (x) => new Rng(x))
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const center = yield* serveCenterTcp({ host: "127.0.0.1", port: 0 })
        const staging = yield* serveStagingTcp({ host: "127.0.0.1", port: 0, token: "tok", root })
        const registered = yield* Effect.gen(function* () {
          const c = yield* makeCenterClient
          return yield* c.Register({ workerId: "w3", token: "tok", paramCount: problem.paramCount, partition: { index: 3, count: 4 } })
        }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port: center.port })))
        const staged = yield* stageOverTcp({ host: "127.0.0.1", port: staging.port, token: "tok", worker: "w3", ref: { ...ref, index: 3 }, target: path.join(root, "w3_lmdb") })
        return { ports: [center.port, staging.port], incarnation: registered.incarnation, staged }
      }).pipe(
        Effect.scoped,
        Effect.provide(layerCenter({ token: "tok", settings: makeEasgdSettings({ period: 5 }), workers: 4, initial: problem.init(new Rng(1)) }))
      )
    )
    expect(out.ports[0]).not.toBe(out.ports[1])
    expect(out.incarnation).toBe(1)
    expect(out.staged.manifest).toMatchObject({ count: 100, firstKey: "00000300", lastKey: "00000399" })
  })
})
