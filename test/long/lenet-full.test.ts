/**
 * Opt-in long runs (npm run test:long): Caffe's stock LeNet solver, 10,000 iterations, on real MNIST —
 * once as `caffe train` would run it, and distributed over 2 workers (async EASGD; downpour; diloco) with one
 * worker killed mid-run. Each appends its result (accuracy, seconds) to out/long-results.jsonl for the README.
 */
import { GlogLogger, createTrainingSession, chooseBackend } from "@deepspark/engine"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { runLocalDistributedTrain } from "../../src/driver/distributed-train.js"
import { makeEasgdSettings } from "../../src/easgd/settings.js"
import { mnistWorkspace, repoRoot } from "../support/mnist-workspace.js"

const record = (entry: Record<string, unknown>) => {
  const file = path.join(repoRoot, "out/long-results.jsonl")
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.appendFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...entry }) + "\n")
}

const logTo = (file: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const fd = fs.openSync(file, "w")
  return new GlogLogger((line) => fs.writeSync(fd, line + "\n"))
}

describe("long: LeNet with Caffe's stock solver (10,000 iterations)", () => {
  it("single solver reaches test accuracy ≥ 0.990 (Caffe: 0.9912)", async () => {
    const dir = await mnistWorkspace()
    const t0 = Date.now()
    const log = logTo(path.join(repoRoot, "out/long-lenet-single.log"))
    const session = await createTrainingSession({
      solverFile: "examples/mnist/lenet_solver.prototxt",
      cwd: dir,
      backend: await chooseBackend("cpu", log),
      log
    })
    try {
      await session.solver.solveAsync()
    } finally {
      await session.close()
    }
    const accuracy = session.solver.meanScores[0]![0]!
    const seconds = (Date.now() - t0) / 1000
    record({ test: "lenet-single-10k", accuracy, seconds })
    expect(accuracy).toBeGreaterThanOrEqual(0.99)
  }, 6 * 3600_000)

  const killedMidRun = (name: string, settings: ReturnType<typeof makeEasgdSettings>) => async () => {
    const dir = await mnistWorkspace()
    const t0 = Date.now()
    const result = await Effect.runPromise(
      Effect.scoped(
        runLocalDistributedTrain({
          solverFile: "examples/mnist/lenet_solver.prototxt",
          cwd: dir,
          workers: 2,
          settings,
          log: logTo(path.join(repoRoot, `out/long-lenet-2workers-${name}.log`)),
          crash: { worker: 1, atIteration: 3333 },
          eventLog: path.join(repoRoot, `out/long-lenet-2workers-${name}.events.jsonl`),
          plot: path.join(repoRoot, `out/long-lenet-2workers-${name}.svg`)
        })
      )
    )
    const accuracy = result.finalTest?.[0]?.outputs.find((o) => o.name === "accuracy")?.value ?? 0
    record({ test: `lenet-2workers-${name}-10k-killed`, accuracy, seconds: (Date.now() - t0) / 1000, exchanges: result.exchanges, restarts: result.workers.map((w) => w.restarts) })
    expect(result.workers[1]!.restarts).toBe(1)
    expect(accuracy).toBeGreaterThanOrEqual(0.99)
  }

  // τ 10, α 0.2: measured 0.9907 here (DeepSpark's defaults τ 50, α 0.1 gave 0.9895).
  it(
    "2 workers, async EASGD, one worker killed once mid-run: center accuracy ≥ 0.990",
    killedMidRun("async-easgd", makeEasgdSettings({ rule: "async-easgd", period: 10, moving_rate: 0.2 })),
    6 * 3600_000
  )

  it(
    "2 workers, downpour with its defaults, one worker killed once mid-run: center accuracy ≥ 0.990",
    killedMidRun("downpour", makeEasgdSettings({ rule: "downpour" })),
    6 * 3600_000
  )

  // diloco's rounds wait for the killed worker's restart; it matched downpour to 98.5 % and 99 %.
  it(
    "2 workers, diloco with its defaults, one worker killed once mid-run: center accuracy ≥ 0.990",
    killedMidRun("diloco", makeEasgdSettings({ rule: "diloco" })),
    6 * 3600_000
  )
})
