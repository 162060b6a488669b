/**
 * Soak harness for the CenterRpcs transport: a center whose handlers check every tensor they receive
 * against a pattern seeded by (worker, seq) and answer with another seeded pattern, a worker loop that
 * checks each reply the same way, and a TCP proxy that re-splits the byte stream at random boundaries.
 *
 * Both ends keep the last few tensors they received and re-check samples of them after later
 * messages arrived, releasing each to the transport's buffer pool only when it leaves that window (so
 * buffers are recycled all along), the center's replies come from the pool (takeTensor), and the worker
 * re-checks its own parameter array after each send: a receive buffer recycled while a tensor still
 * views it, a send buffer reused or detached too early, or a frame assembled wrongly at some chunk
 * boundary all show up as a named mismatch.
 */
import { Effect, Schedule } from "effect"
import net from "node:net"
import { MessageChannel, Worker } from "node:worker_threads"
import { releaseTensor, takeTensor } from "../../src/transport/buffer-pool.js"
import { serveCenterRpcsOverMessagePorts } from "../../src/transport/message-port-rpc.js"
import { CenterRejected, CenterRpcs } from "../../src/transport/center-rpcs.js"
import type { CenterClient } from "../../src/transport/tcp.js"

export const SOAK_TOKEN = "soak"

/** A LeNet-sized parameter vector (431,080 float32 = 1.7 MB). */
export const LENET_PARAMS = 431_080

/** 32-bit seed for (worker, seq, direction). */
export const soakSeed = (workerId: string, seq: number, direction: "register" | "up" | "down"): number => {
  let h = 0x811c9dc5
  for (const ch of `${workerId}/${direction}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193)
  return Math.imul(h ^ seq, 0x9e3779b1) >>> 0
}

/**
 * Pattern `seed` is one fixed table of n random float32 values rotated by an offset derived from the
 * seed: cheap to write (two copies) and to check, and no two (worker, seq, direction) patterns agree
 * anywhere a misplaced, stale or recycled buffer could make them look alike.
 */
const tables = new Map<number, Float32Array>()
const table = (n: number): Float32Array => {
  let t = tables.get(n)
  if (!t) {
    const rnd = makeRandom(n)
    t = new Float32Array(n)
    for (let i = 0; i < n; i++) t[i] = (rnd() - 0.5) * 2 ** (Math.floor(rnd() * 40) - 20)
    tables.set(n, t)
  }
  return t
}
const rotation = (seed: number, n: number): number => seed % n

export const patternValue = (seed: number, n: number, i: number): number => {
  const r = rotation(seed, n)
  return table(n)[i + r < n ? i + r : i + r - n]!
}

/** out[i] = table[(i + r) mod n]. */
export const fillPattern = (out: Float32Array, seed: number): void => {
  const n = out.length
  const t = table(n)
  const r = rotation(seed, n)
  out.set(t.subarray(r), 0)
  out.set(t.subarray(0, r), n - r)
}

/** undefined when `t` holds pattern `seed` at every position (or at `positions`), else what differs. */
export const checkPattern = (t: Float32Array, n: number, seed: number, positions?: ReadonlyArray<number>): string | undefined => {
  if (t.length !== n) return `has ${t.length} values, expected ${n}${t.buffer.byteLength === 0 ? " (its buffer is detached)" : ""}`
  const at = (i: number) => {
    const want = patternValue(seed, n, i)
    return Object.is(t[i], want) ? undefined : `value ${i} is ${t[i]}, expected ${want}`
  }
  if (positions) {
    for (const i of positions) {
      const bad = at(i)
      if (bad) return bad
    }
    return undefined
  }
  const base = table(n)
  const r = rotation(seed, n)
  for (let i = 0, j = r; i < n; i++, j = j + 1 === n ? 0 : j + 1) if (t[i] !== base[j]) return at(i)
  return undefined
}

/** A few thousand positions spread over the tensor: both ends, page boundaries and random ones. */
export const samplePositions = (n: number, rnd: () => number): number[] => {
  const out = [0, 1, 2, 3, n - 4, n - 3, n - 2, n - 1]
  for (let i = 1023; i < n; i += 16384) out.push(i - 1, i, i + 1)
  for (let k = 0; k < 2048; k++) out.push(Math.floor(rnd() * n))
  return out.filter((i) => i >= 0 && i < n)
}

/** Deterministic xorshift32 in [0, 1). */
export const makeRandom = (seed: number): (() => number) => {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 4294967296
  }
}

export interface SoakCenterStats {
  /** Exchanges whose tensor checked out, per worker. */
  readonly verified: Map<string, number>
  /** The first mismatch the center saw (tests assert there is none). */
  readonly errors: string[]
  registrations: number
  heartbeats: number
}

/**
 * CenterRpcs handlers that check each exchange's tensor and reply with a seeded pattern. A worker that
 * registers again continues its seq numbers (resumeIteration = its last verified seq).
 */
export const makeSoakHandlers = (n: number, options: { retain?: number; seed?: number } = {}) => {
  const stats: SoakCenterStats = { verified: new Map(), errors: [], registrations: 0, heartbeats: 0 }
  const retainCount = options.retain ?? 4
  const rnd = makeRandom(options.seed ?? 7)
  const retained = new Map<string, Array<{ t: Float32Array; seed: number; what: string }>>()
  const lastSeq = new Map<string, number>()
  const incarnations = new Map<string, number>()
  const fail = (message: string) => {
    stats.errors.push(message)
    return Effect.fail(new CenterRejected({ reason: "bad-request", message }))
  }
  /** Replies come from the pool, as the center's do: the encoder releases them once copied. */
  const replyTensor = (seed: number, pooled: boolean) => {
    const t = pooled ? takeTensor(n) : new Float32Array(n)
    fillPattern(t, seed)
    return t
  }
  const layer = CenterRpcs.toLayer({
    Register: (p) =>
      Effect.suspend(() => {
        if (p.token !== SOAK_TOKEN || p.paramCount !== n) return fail(`register ${p.workerId}: bad token or paramCount ${p.paramCount}`)
        stats.registrations++
        const incarnation = (incarnations.get(p.workerId) ?? 0) + 1
        incarnations.set(p.workerId, incarnation)
        return Effect.succeed({
          incarnation,
          center: replyTensor(soakSeed(p.workerId, incarnation, "register"), false),
          alpha: 0.5,
          rule: "async-easgd",
          version: 0,
          resumeIteration: lastSeq.get(p.workerId) ?? 0,
          resumeCursor: null
        })
      }),
    Exchange: (p) =>
      Effect.suspend(() => {
        const what = `${p.workerId} seq ${p.seq}`
        const bad = checkPattern(p.params, n, soakSeed(p.workerId, p.seq, "up"))
        if (bad) return fail(`the center received ${what}: params ${bad}`)
        if (p.seq !== (lastSeq.get(p.workerId) ?? 0) + 1) return fail(`the center received ${what} after seq ${lastSeq.get(p.workerId) ?? 0}`)
        const kept = retained.get(p.workerId) ?? []
        const positions = samplePositions(n, rnd)
        for (const r of kept) {
          const stale = checkPattern(r.t, n, r.seed, positions)
          if (stale) return fail(`after receiving ${what}, the center's copy of ${r.what} changed: ${stale}`)
        }
        kept.push({ t: p.params, seed: soakSeed(p.workerId, p.seq, "up"), what })
        if (kept.length > retainCount) releaseTensor(kept.shift()!.t)
        retained.set(p.workerId, kept)
        lastSeq.set(p.workerId, p.seq)
        stats.verified.set(p.workerId, (stats.verified.get(p.workerId) ?? 0) + 1)
        return Effect.succeed({
          center: replyTensor(soakSeed(p.workerId, p.seq, "down"), true),
          alpha: 0.5,
          version: p.seq,
          duplicate: false,
          reset: false,
          stop: false
        })
      }),
    Report: () => Effect.void,
    Heartbeat: () =>
      Effect.sync(() => {
        stats.heartbeats++
        return { stop: false }
      }),
    Snapshot: () => Effect.fail(new CenterRejected({ reason: "bad-request", message: "no snapshots in the soak test" })),
    Stop: () => Effect.void
  })
  return { layer, stats }
}

export interface SoakWorkerResult {
  readonly workerId: string
  readonly firstSeq: number
  readonly lastSeq: number
  readonly heartbeats: number
}

/**
 * A worker's life against the soak center: register (check x̃), then `exchanges` exchanges from where
 * the center says it stopped, heartbeats every few ms in between (small frames interleaved with the
 * big ones). Fails with the first mismatch. `onExchange` is told each completed seq.
 */
export const soakWorker = (
  client: CenterClient,
  options: {
    workerId: string
    n: number
    exchanges: number
    /** Keep exchanging until this much time has passed too (long runs: the RPC client pings every 10 s). */
    minDurationMs?: number
    retain?: number
    heartbeatMs?: number
    onExchange?: (seq: number) => void
  }
) =>
  Effect.gen(function* () {
    const { workerId, n } = options
    const reg = yield* client.Register({ workerId, token: SOAK_TOKEN, paramCount: n, partition: { index: 0, count: 1 } })
    const regBad = checkPattern(reg.center, n, soakSeed(workerId, reg.incarnation, "register"))
    if (regBad) return yield* Effect.fail(`${workerId} registered: x̃ ${regBad}`)
    const identity = { workerId, incarnation: reg.incarnation, token: SOAK_TOKEN }
    let heartbeats = 0
    yield* client.Heartbeat({ ...identity, clock: 0 }).pipe(
      Effect.tap(() => Effect.sync(() => heartbeats++)),
      Effect.repeat(Schedule.spaced(`${options.heartbeatMs ?? 3} millis`)),
      Effect.forkScoped
    )
    const rnd = makeRandom(soakSeed(workerId, reg.incarnation, "register"))
    const retained: Array<{ t: Float32Array; seed: number; what: string }> = []
    const params = new Float32Array(n)
    const firstSeq = reg.resumeIteration + 1
    const until = Date.now() + (options.minDurationMs ?? 0)
    let seq = firstSeq
    for (; seq < firstSeq + options.exchanges || Date.now() < until; seq++) {
      const up = soakSeed(workerId, seq, "up")
      fillPattern(params, up)
      const reply = yield* client.Exchange({ ...identity, seq, clock: seq, params, lossSum: seq, iterations: 1, cursor: `c${seq}` })
      const what = `${workerId} seq ${seq}`
      const own = checkPattern(params, n, up, samplePositions(n, rnd))
      if (own) return yield* Effect.fail(`after sending ${what}, the worker's own params ${own}`)
      const bad = checkPattern(reply.center, n, soakSeed(workerId, seq, "down"))
      if (bad) return yield* Effect.fail(`the worker received the reply to ${what}: x̃ ${bad}`)
      if (reply.version !== seq) return yield* Effect.fail(`the reply to ${what} has version ${reply.version}`)
      const positions = samplePositions(n, rnd)
      for (const r of retained) {
        const stale = checkPattern(r.t, n, r.seed, positions)
        if (stale) return yield* Effect.fail(`after receiving the reply to ${what}, the worker's copy of ${r.what} changed: ${stale}`)
      }
      retained.push({ t: reply.center, seed: soakSeed(workerId, seq, "down"), what: `the reply to ${what}` })
      if (retained.length > (options.retain ?? 4)) releaseTensor(retained.shift()!.t)
      options.onExchange?.(seq)
    }
    return { workerId, firstSeq, lastSeq: seq - 1, heartbeats } satisfies SoakWorkerResult
  })

/**
 * A TCP proxy that forwards each direction in random pieces (1–8 bytes, up to 4 KB, up to 256 KB),
 * yielding to the event loop between many of them, so the far ends read frames cut at arbitrary places.
 */
export const chunkingProxy = (target: { host: string; port: number }, seed: number) =>
  Effect.acquireRelease(
    Effect.async<{ port: number; server: net.Server; sockets: Set<net.Socket>; pieces: () => number }>((resume) => {
      const rnd = makeRandom(seed)
      let pieces = 0
      const sockets = new Set<net.Socket>()
      const pump = (from: net.Socket, to: net.Socket) => {
        const queue: Buffer[] = []
        let busy = false
        let ended = false
        const drain = async () => {
          busy = true
          while (queue.length > 0) {
            const b = queue.shift()!
            for (let o = 0; o < b.length; ) {
              const r = rnd()
              const size = r < 0.3 ? 1 + Math.floor(rnd() * 8) : r < 0.6 ? 1 + Math.floor(rnd() * 4096) : 1 + Math.floor(rnd() * 262144)
              const piece = b.subarray(o, o + size)
              o += piece.length
              pieces++
              if (to.destroyed) return
              if (!to.write(piece)) await new Promise((r) => to.once("drain", r))
              if (rnd() < 0.5) await new Promise((r) => setImmediate(r))
            }
          }
          busy = false
          if (ended) to.end()
        }
        from.on("data", (b: Buffer) => {
          queue.push(b)
          if (!busy) void drain()
        })
        from.on("end", () => {
          ended = true
          if (!busy) to.end()
        })
        from.on("close", () => to.destroy())
        from.on("error", () => to.destroy())
      }
      const server = net.createServer((client) => {
        client.setNoDelay(true)
        const upstream = net.connect({ ...target, noDelay: true })
        sockets.add(client).add(upstream)
        pump(client, upstream)
        pump(upstream, client)
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ port: (server.address() as net.AddressInfo).port, server, sockets, pieces: () => pieces }))
      )
    }),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      })
  )

export interface SoakThreadOutcome {
  readonly result?: SoakWorkerResult
  readonly failed?: string
  /** The thread's exit code (1 when terminated). */
  readonly code: number
  /** Exchanges the thread reported done, in order. */
  readonly seqs: ReadonlyArray<number>
}

/**
 * Serves the soak handlers over MessagePorts as local mode does (scoped), and returns a runner for soak
 * worker threads (support/transport-soak-worker.ts, loaded through the source-thread bootstrap).
 * `killAfter` terminates the thread just after that seq is done, mid-way through the next exchange.
 */
export const serveSoakOverMessagePorts = (soak: ReturnType<typeof makeSoakHandlers>) =>
  Effect.gen(function* () {
    const accept = yield* serveCenterRpcsOverMessagePorts(soak.layer)
    const bootstrap = new URL("../../src/launch/source-thread.mjs", import.meta.url)
    const entry = new URL("./transport-soak-worker.ts", import.meta.url).href
    return (workerId: string, exchanges: number, options: { killAfter?: number; minDurationMs?: number; n?: number } = {}) =>
      Effect.async<SoakThreadOutcome>((resume) => {
        const { port1, port2 } = new MessageChannel()
        accept(port1)
        const worker = new Worker(bootstrap, {
          workerData: { entry, port: port2, workerId, n: options.n ?? LENET_PARAMS, exchanges, minDurationMs: options.minDurationMs },
          transferList: [port2]
        })
        let result: SoakWorkerResult | undefined
        let failed: string | undefined
        const seqs: number[] = []
        worker.on("message", (m: { type: string; seq?: number; result?: SoakWorkerResult; message?: string }) => {
          if (m.type === "exchange") {
            seqs.push(m.seq!)
            if (m.seq === options.killAfter) setTimeout(() => void worker.terminate(), 3)
          }
          if (m.type === "done") result = m.result!
          if (m.type === "failed") failed = m.message!
        })
        worker.on("exit", (code) => {
          port1.close()
          resume(Effect.succeed({ ...(result ? { result } : {}), ...(failed ? { failed } : {}), code, seqs }))
        })
      })
  })
