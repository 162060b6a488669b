import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { Rng } from "@deepspark/engine"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { centerCommand } from "../cli/center.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"
import { problemTrainer } from "../simulator/problem-trainer.js"
import { runTrainerLoop } from "../worker/trainer-loop.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../transport/tcp.js"
import { syntheticCenterJob } from "../simulator/synthetic-center-job.js"
import { readCenterCheckpoint } from "./center-checkpoint.js"

/**
 * `deepspark center` end to end in this process: a run stopped midway leaves atomic checkpoints, and
 * `--resume` restores x̃ and the bookkeeping, so the exchange count and the workers' iterations continue.
 */
const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))
const job = syntheticCenterJob({ problemSeed: 3 })
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** Starts `deepspark center …` here; resolves its port once it listens, and its exit code and log. */
const startCenter = (argv: ReadonlyArray<string>) => {
  const lines: string[] = []
  let onPort: (port: number) => void = () => {}
  const port = new Promise<number>((resolve) => (onPort = resolve))
  const done = centerCommand(["--synthetic", "3", "--listen", "127.0.0.1:0", "--token", "tok", "--workers", "2", "--period", "5", "--moving-rate", "0.3", ...argv], {
    stdout: (l) => {
      lines.push(l)
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(l)
      if (m) onPort(Number(m[1]))
    },
    stderr: (l) => lines.push(`stderr: ${l}`)
  })
  return { port: Promise.race([port, done.then((code) => Promise.reject(new Error(`center exited ${code}: ${lines.join("\n")}`)))]), done, lines }
}

const runWorkers = (port: number) =>
  Effect.runPromise(
    Effect.all(
      [0, 1].map((i) =>
        Effect.gen(function* () {
          const c = yield* makeCenterClient
          let resumedAt = -1
          const client = { ...c, Register: (p: Parameters<typeof c.Register>[0]) => c.Register(p).pipe(Effect.tap((r) => Effect.sync(() => (resumedAt = r.resumeIteration)))) }
          const r = yield* runTrainerLoop(client as typeof c, problemTrainer(problem, i, 2, new Rng(10 + i)), {
            workerId: `w${i}`,
            token: "tok",
            partition: { index: i, count: 2 },
            period: 5,
            maxIter: 100
          })
          return { ...r, resumedAt }
        }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))
      ),
      { concurrency: "unbounded" }
    )
  )

describe("deepspark center: checkpoints and --resume", () => {
  it("stops midway, resumes from the checkpoint, and finishes with the exchange count continuing", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ds-center-"))
    dirs.push(dir)
    const prefix = path.join(dir, "center")

    // Part 1: the run stops after 20 exchanges (of the 40 the workers' max_iter would make).
    const first = startCenter(["--checkpoint-every", "10", "--checkpoint-prefix", prefix, "--max-exchanges", "20"])
    const part1 = await runWorkers(await first.port)
    expect(await first.done, first.lines.join("\n")).toBe(0)
    expect(part1.every((r) => r.stoppedByCenter)).toBe(true)
    const files = (await readdir(dir)).sort()
    expect(files).toContain("center_exchange_10.dsstate")
    expect(files).toContain("center_exchange_10.f32")
    expect(files.some((f) => f.includes(".tmp"))).toBe(false) // atomic writes leave no temp files
    const last = first.lines.map((l) => /Last checkpoint: (.*)\.f32$/.exec(l)?.[1]).find(Boolean)!
    const checkpoint = await readCenterCheckpoint(job, `${last}.dsstate`)
    const stoppedAt = checkpoint.state.exchanges
    expect(stoppedAt).toBeGreaterThanOrEqual(20)
    expect(stoppedAt).toBeLessThanOrEqual(21) // the other worker's exchange may already be in flight
    expect(checkpoint.state.workers.map((w) => w.exchanges).reduce((a, b) => a + b)).toBe(stoppedAt)

    // Part 2: resume; each worker re-registers, resumes at its last exchange's iteration, and finishes.
    const second = startCenter(["--resume", `${last}.dsstate`, "--checkpoint-prefix", prefix])
    const part2 = await runWorkers(await second.port)
    expect(await second.done, second.lines.join("\n")).toBe(0)
    expect(second.lines.join("\n")).toContain(`Resumed from ${last}.dsstate: exchange ${stoppedAt}`)
    for (const [i, r] of part2.entries()) {
      const w = checkpoint.state.workers.find((s) => s.workerId === `w${i}`)!
      expect(r.resumedAt).toBe(w.clock)
      expect(r.iterations).toBe(100)
      expect(r.exchanges).toBe(20 - w.exchanges)
    }
    // Every worker made its 20 exchanges in all: the count continued from the checkpoint to 40.
    const final = await readCenterCheckpoint(job, `${prefix}_exchange_40.dsstate`)
    expect(final.state.exchanges).toBe(40)
    expect(final.state.workers.map((w) => [w.workerId, w.exchanges, w.clock])).toEqual([
      ["w0", 20, 100],
      ["w1", 20, 100]
    ])
    expect(problem.evaluate(final.x).accuracy).toBeGreaterThan(0.8)
  }, 60_000)

  it("refuses a non-loopback address without a token, and a corrupt checkpoint with the file named", async () => {
    const lines: string[] = []
    const io = { stdout: (l: string) => lines.push(l), stderr: (l: string) => lines.push(l) }
    const saved = process.env.DEEPSPARK_TOKEN
    delete process.env.DEEPSPARK_TOKEN
    try {
      expect(await centerCommand(["--synthetic", "3", "--listen", "0.0.0.0:0"], io)).toBe(2)
      expect(lines.join("\n")).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/)
    } finally {
      if (saved !== undefined) process.env.DEEPSPARK_TOKEN = saved
    }
    const dir = await mkdtemp(path.join(tmpdir(), "ds-center-"))
    dirs.push(dir)
    const bad = path.join(dir, "bad.dsstate")
    await (await import("node:fs/promises")).writeFile(bad, JSON.stringify({ format: "something-else" }))
    lines.length = 0
    expect(await centerCommand(["--synthetic", "3", "--listen", "127.0.0.1:0", "--resume", bad], io)).toBe(1)
    expect(lines.join("\n")).toContain(`${bad}: format "something-else" is not deepspark-center/1`)
  }, 30_000)
})
