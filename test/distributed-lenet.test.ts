import { readCaffemodelSync } from "@deepspark/caffe"
import { GlogLogger } from "@deepspark/engine"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { runLocalDistributedTrain } from "../src/driver/distributed-train.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { readEventLog } from "../src/observe/event-log.js"
import { mnistWorkspace, writeSolverVariant } from "./support/mnist-workspace.js"

describe("distributed LeNet on real MNIST (Caffe's prototxts unchanged)", () => {
  it("two trainer threads with async EASGD train the center (one crashes and resumes), which is tested, checkpointed, snapshotted and resumable", async () => {
    const dir = await mnistWorkspace()
    const solver = writeSolverVariant(dir, "lenet_solver_dist_test.prototxt", {
      max_iter: 40,
      test_iter: 5,
      test_interval: 20,
      snapshot: 0,
      snapshot_prefix: "examples/mnist/dist_test"
    })
    const lines: string[] = []
    const result = await Effect.runPromise(
      Effect.scoped(
        runLocalDistributedTrain({
          solverFile: solver,
          cwd: dir,
          workers: 2,
          settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
          log: new GlogLogger((l) => lines.push(l)),
          testLog: (l) => lines.push(l),
          eventLog: path.join(dir, "out/events.jsonl"),
          plot: path.join(dir, "out/progress.svg"),
          checkpointEvery: 8,
          // Worker 1 dies at iteration 12: it restarts, re-pulls x̃ and resumes at iteration 10 with the
          // data cursor of that exchange, so the run still ends after 16 exchanges.
          crash: { worker: 1, atIteration: 12 }
        })
      )
    )
    expect(result.exchanges).toBe(16) // 2 workers × 40 iterations / τ 5
    expect(result.workers.map((w) => w.restarts)).toEqual([0, 1])
    expect(lines.some((l) => /Worker worker1 died .*restarting/.test(l))).toBe(true)
    expect(lines.some((l) => /worker1 re-registered \(incarnation 2\)/.test(l))).toBe(true)
    const acc = result.finalTest?.[0]?.outputs.find((o) => o.name === "accuracy")?.value
    expect(acc).toBeGreaterThan(0.5) // 40 iterations per worker already learn a lot
    const model = readCaffemodelSync(result.snapshot.caffemodel)
    expect(model.layer?.map((l) => l.name)).toContain("conv1")
    expect(path.basename(result.snapshot.caffemodel)).toBe("dist_test_iter_40.caffemodel")
    const events = readEventLog(path.join(dir, "out/events.jsonl"))
    expect(events.filter((e) => e.type === "exchange")).toHaveLength(16)
    expect(events.some((e) => e.type === "test")).toBe(true)
    expect(fs.readFileSync(path.join(dir, "out/progress.svg"), "utf8")).toContain("<svg")
    expect(lines.some((l) => /Optimization Done\./.test(l))).toBe(true)
    expect(lines.some((l) => /Iteration 20, Testing net \(#0\)/.test(l))).toBe(true)
    expect(lines.some((l) => /Test net output #0: accuracy = /.test(l))).toBe(true)
    // A checkpoint every 8 exchanges: x̃ as a caffemodel plus the bookkeeping.
    const ckpt = path.join(dir, "examples/mnist/dist_test_exchange_8.dsstate")
    expect(JSON.parse(fs.readFileSync(ckpt, "utf8")).exchanges).toBe(8)

    // Resume from exchange 8: the center restores x̃ and each worker's clock and cursor, so both
    // workers continue from iteration 20 and the run ends at the same 16 exchanges.
    const resumed = await Effect.runPromise(
      Effect.scoped(
        runLocalDistributedTrain({
          solverFile: solver,
          cwd: dir,
          workers: 2,
          settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
          log: new GlogLogger((l) => lines.push(l)),
          resume: path.relative(dir, ckpt),
          testInterval: 0
        })
      )
    )
    expect(resumed.exchanges).toBe(16)
    expect(lines.some((l) => /Resumed the center from .*exchange_8\.dsstate at exchange 8/.test(l))).toBe(true)
  }, 300_000)
})
