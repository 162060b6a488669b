/**
 * `benchDist`: the multi-process transport and the scaling model.
 *
 * 1. Exchange round trips between two processes on loopback: a worker sends x_i (N float32) and gets x̃
 *    back, over the RPC transport (framed msgpack, the real Center applying the exchange) versus a raw
 *    node:net echo of the same bytes, measured in the same run. MB/s counts both directions.
 *    Sizes: LeNet (431,080 floats = 1.7 MB) and 64 MB.
 * 2. The simulator's time-to-accuracy for 1…32 workers under a compute/network model measured in the
 *    same run: compute = the median time of one real LeNet training iteration (batch 64, MNIST LMDB,
 *    this backend, one thread), network = half the measured LeNet RPC round trip less the center's
 *    apply time (one way), center service = the measured cost of applying one LeNet-sized exchange.
 */
import { spawn, type ChildProcess } from "node:child_process"
import net from "node:net"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Rng } from "@deepspark/engine"
import { Effect, Scheduler } from "effect"
import { CenterState } from "../src/center/center-state.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { fixed } from "../src/simulator/distributions.js"
import { softmaxRegressionProblem } from "../src/simulator/problem.js"
import { simulate } from "../src/simulator/simulator.js"
import { ioScheduler } from "../src/transport/io-scheduler.js"
import { measureLenetIterationSeconds } from "./lenet-iteration-cost.js"
import { releaseEncodedTensor, releaseTensor } from "../src/transport/buffer-pool.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../src/transport/tcp.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const MB = 1e6

const startServer = (args: ReadonlyArray<string>, defaultScheduler = false): Promise<{ child: ChildProcess; port: number }> =>
  new Promise((resolve, reject) => {
    const env = { ...process.env, ...(defaultScheduler ? { DEEPSPARK_BENCH_DEFAULT_SCHEDULER: "1" } : {}) }
    const child = spawn(process.execPath, ["bin/run-ts.mjs", "bench/dist-server.ts", ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString()
      const m = /PORT (\d+)/.exec(out)
      if (m) resolve({ child, port: Number(m[1]) })
    })
    child.on("exit", (code) => reject(new Error(`dist-server ${args.join(" ")} exited with ${code}`)))
  })

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Round trips of `bytes` through the echo server; median milliseconds. */
const rawRoundTrips = async (port: number, bytes: number, rounds: number): Promise<number> => {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true })
  await new Promise<void>((r) => socket.once("connect", () => r()))
  const payload = Buffer.alloc(bytes, 7)
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    await new Promise<void>((resolve) => {
      let got = 0
      const onData = (b: Buffer) => {
        got += b.length
        if (got >= bytes) {
          socket.off("data", onData)
          resolve()
        }
      }
      socket.on("data", onData)
      socket.write(payload)
    })
    times.push(performance.now() - t0)
  }
  socket.destroy()
  return median(times.slice(1))
}

/** Exchanges of `n` floats with the center process; median milliseconds. */
const rpcRoundTrips = (port: number, n: number, rounds: number, scheduler: Scheduler.Scheduler): Promise<number> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const c = yield* makeCenterClient
      const reg = yield* c.Register({ workerId: "bench", token: "bench", paramCount: n, partition: { index: 0, count: 1 } })
      const params = new Float32Array(n).fill(0.25)
      const times: number[] = []
      for (let seq = 1; seq <= rounds; seq++) {
        const t0 = performance.now()
        const reply = yield* c.Exchange({ workerId: "bench", incarnation: reg.incarnation, token: "bench", seq, clock: seq, params, lossSum: 1, iterations: 1, cursor: null })
        if (reply.center.length !== n) throw new Error(`reply has ${reply.center.length} values`)
        releaseTensor(reply.center) // as the trainer loop does once x̃ is in its net
        times.push(performance.now() - t0)
      }
      return median(times.slice(1))
    }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })), Effect.withScheduler(scheduler))
  )

/** Milliseconds the center spends applying one exchange of n floats (no transport), after warming up. */
const centerApplyMs = (n: number, rounds: number): number => {
  const state = new CenterState({ token: "t", settings: makeEasgdSettings({ period: 1, moving_rate: 0.1 }), workers: 1, initial: new Float32Array(n) })
  const reg = state.register({ workerId: "w", token: "t", paramCount: n, partition: { index: 0, count: 1 } }, 0)
  const params = new Float32Array(n).fill(1)
  const times: number[] = []
  for (let seq = 1; seq <= rounds + 3; seq++) {
    const t0 = performance.now()
    const reply = state.exchange({ workerId: "w", incarnation: reg.incarnation, token: "t", seq, clock: seq, params, lossSum: 1, iterations: 1, cursor: null }, 0)
    times.push(performance.now() - t0)
    releaseEncodedTensor(reply.center) // as the encoder does once it is in a frame
  }
  return median(times.slice(3))
}

export async function benchDist(): Promise<void> {
  const sizes = [
    { name: "LeNet 1.7MB", n: 431_080, rounds: 40 },
    { name: "64 MB", n: 16 * 1024 * 1024, rounds: 6 }
  ]
  const raw = await startServer(["raw"])
  const measured: Array<{ n: number; rpcMBs: number; rpcMs: number; applyMs: number }> = []
  const fmt = (ms: number, bytes: number) => `${ms.toFixed(1).padStart(7)} ms ${((2 * bytes) / MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s`
  try {
    console.log("exchange round trip, two processes on loopback, median (MB/s counts bytes up + bytes back)")
    console.log("size        | raw node:net echo     | RPC, Effect's default scheduler | RPC, ioScheduler (used)  | ratio | center apply | ratio excl. apply")
    for (const s of sizes) {
      const bytes = s.n * 4
      const rawMs = await rawRoundTrips(raw.port, bytes, s.rounds)
      const times: number[] = []
      for (const defaultScheduler of [true, false]) {
        const rpc = await startServer(["rpc", String(s.n)], defaultScheduler)
        try {
          times.push(await rpcRoundTrips(rpc.port, s.n, s.rounds, defaultScheduler ? Scheduler.defaultScheduler : ioScheduler))
        } finally {
          rpc.child.kill("SIGKILL")
        }
      }
      const [rpcDefaultMs, rpcMs] = times as [number, number]
      const applyMs = centerApplyMs(s.n, Math.min(s.rounds, 20))
      measured.push({ n: s.n, rpcMBs: (2 * bytes) / MB / (rpcMs / 1000), rpcMs, applyMs })
      console.log(
        `${s.name.padEnd(11)} | ${fmt(rawMs, bytes)} | ${fmt(rpcDefaultMs, bytes)}         | ${fmt(rpcMs, bytes)}  | ${(rawMs / rpcMs).toFixed(2)}× | ${applyMs.toFixed(1).padStart(7)} ms | ${(rawMs / Math.max(1e-9, rpcMs - applyMs)).toFixed(2)}×`
      )
    }
  } finally {
    raw.child.kill("SIGKILL")
  }

  // The scaling model, measured now: one LeNet iteration, one exchange's transfer and its center apply.
  const lenet = measured[0]!
  const computeS = await measureLenetIterationSeconds(repoRoot)
  const oneWay = Math.max(0, lenet.rpcMs - lenet.applyMs) / 2 / 1000
  const messageMB = (lenet.n * 4) / MB
  console.log(
    `\nsimulated time to accuracy (softmax problem; model measured in this run: ${(computeS * 1000).toFixed(1)} ms per LeNet iteration (median of 30, cpu backend, one thread), ` +
      `${(oneWay * 1000).toFixed(2)} ms per ${messageMB.toFixed(2)} MB message one way (half the RPC round trip less the apply), ` +
      `center ${lenet.applyMs.toFixed(2)} ms per exchange, serialised; async-easgd τ=10 α=0.1; every worker runs 400 iterations on a core of its own)`
  )
  console.log("workers | time to 85% | time to 88% | final accuracy | mean staleness")
  for (const workers of [1, 2, 4, 8, 16, 32]) {
    const r = simulate({
      problem: softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s)),
      settings: makeEasgdSettings({ period: 10, moving_rate: 0.1 }),
      workers: Array.from({ length: workers }, () => ({ compute: { kind: "lognormal", median: computeS, sigma: 0.1 }, network: fixed(oneWay) })),
      iterationsPerWorker: 400,
      seed: 1,
      centerService: fixed(lenet.applyMs / 1000)
    })
    const t = (a: number) => {
      const v = r.timeToAccuracy(a)
      return v === undefined ? "     —" : `${v.toFixed(2).padStart(6)} s`
    }
    const staleness = r.workers.reduce((s, w) => s + w.meanStaleness, 0) / workers
    console.log(`${String(workers).padStart(7)} | ${t(0.85).padStart(11)} | ${t(0.88).padStart(11)} | ${r.final.accuracy.toFixed(3).padStart(14)} | ${staleness.toFixed(1).padStart(14)}`)
  }
}

// Run directly: node bin/run-ts.mjs bench/dist.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await benchDist()
