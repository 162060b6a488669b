import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Center, layerCenter } from "../center/center-service.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../transport/tcp.js"
import type { LocalTrainer } from "./local-trainer.js"
import { runTrainerLoop } from "./trainer-loop.js"

const PARAMS = 4

/**
 * A trainer whose every iteration adds `gain` to each parameter (its "progress"), taking a few
 * milliseconds as a real iteration would, and which records the iteration at each write from the center.
 */
const progressTrainer = (gain: number) => {
  const x = new Float32Array(PARAMS)
  const writesAt: number[] = []
  let iteration = 0
  const trainer: LocalTrainer = {
    paramCount: PARAMS,
    readParams: (out) => void out.set(x),
    writeParams: (v) => {
      x.set(v)
      writesAt.push(iteration)
    },
    step: () => {
      const until = Date.now() + 2
      while (Date.now() < until) {
        // a few milliseconds of "compute"
      }
      for (let k = 0; k < PARAMS; k++) x[k]! += gain
      iteration++
      return 0.5
    },
    get iteration() {
      return iteration
    },
    setIteration: (i) => void (iteration = i),
    cursor: () => null,
    restoreCursor: () => undefined,
    resetHistory: () => undefined
  }
  return { trainer, x, writesAt }
}

/** Two downpour workers (the plain sum: no warm-up, no bound) over TCP on loopback. */
const run = (overlapExchange: boolean, maxIter: number) =>
  Effect.gen(function* () {
    const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0, maxFrameBytes: 1 << 20 })
    const center = yield* Center
    const workers = [progressTrainer(1), progressTrainer(10)]
    const results = yield* Effect.all(
      workers.map((w, i) =>
        Effect.gen(function* () {
          const client = yield* makeCenterClient
          return yield* runTrainerLoop(client, w.trainer, {
            workerId: `w${i}`,
            token: "tok",
            partition: { index: i, count: 2 },
            period: 5,
            maxIter,
            overlapExchange
          })
        }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))
      ),
      { concurrency: "unbounded" }
    )
    return { center: [...(yield* center.params)], workers, results }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      layerCenter({
        token: "tok",
        settings: makeEasgdSettings({ rule: "downpour", progress_warmup: 0, progress_gain: 0 }),
        workers: 2,
        initial: new Float32Array(PARAMS)
      })
    )
  )

describe("overlapping a worker's exchange with its training (downpour)", () => {
  it("loses and repeats no progress: x̃ ends at the sum of every iteration's progress", async () => {
    const { center, workers, results } = await Effect.runPromise(run(true, 60))
    // 60 iterations × 1 and 60 × 10: the center holds all of it, exactly once.
    for (const v of center) expect(v).toBe(660)
    expect(results.map((r) => r.iterations)).toEqual([60, 60])
    // Replies were applied while training went on (after a later iteration than the one sent at).
    for (const w of workers) expect(w.writesAt.some((at) => at % 5 !== 0)).toBe(true)
    // The last exchange (at max_iter) is waited for: the worker that exchanged last ends on x̃ itself.
    expect(workers.some((w) => w.x.every((v, k) => v === center[k]))).toBe(true)
  })

  it("without it, each worker waits for its reply: every write lands at an exchange", async () => {
    const { center, workers } = await Effect.runPromise(run(false, 30))
    for (const v of center) expect(v).toBe(330)
    for (const w of workers) expect(w.writesAt.every((at) => at % 5 === 0)).toBe(true)
  })
})
