import { Rng } from "@deepspark/engine"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Center, layerCenter } from "../center/center-service.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"
import { runLocalWorkers } from "./local-workers.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"

const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))

const assignment = (i: number, extra: Partial<WorkerAssignment> = {}): WorkerAssignment => ({
  workerId: `w${i}`,
  token: "tok",
  partition: { index: i, count: 2 },
  period: 5,
  maxIter: 100,
  adaptivePeriod: false,
  spec: { kind: "softmax-problem", problemSeed: 3, seed: 100 },
  ...extra
})

const run = (assignments: WorkerAssignment[]) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const center = yield* Center
      const logs: string[] = []
      const outcomes = yield* runLocalWorkers({ assignments, backoff: "50 millis", log: (l) => logs.push(l) })
      return { outcomes, logs, accuracy: problem.evaluate(yield* center.params).accuracy, state: yield* center.view }
    }).pipe(
      Effect.scoped,
      Effect.provide(
        layerCenter({ token: "tok", settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }), workers: 2, initial: problem.init(new Rng(1)) })
      )
    )
  )

describe("local mode: trainers in worker threads", () => {
  it("two worker threads train the center over MessagePorts", async () => {
    const r = await run([assignment(0), assignment(1)])
    expect(r.outcomes.map((o) => o.restarts)).toEqual([0, 0])
    expect(r.state.exchanges).toBe(40)
    expect(r.accuracy).toBeGreaterThan(0.8)
  }, 60_000)

  it("a worker that crashes mid-run is restarted, resumes from its last exchange, and the run completes", async () => {
    const r = await run([assignment(0, { crashAtIteration: 42 }), assignment(1)])
    expect(r.outcomes[0]!.restarts).toBe(1)
    expect(r.outcomes[1]!.restarts).toBe(0)
    expect(r.logs.some((l) => /Worker w0 died .*injected crash|Worker w0 died/.test(l))).toBe(true)
    const w0 = r.state.workers.get("w0")!
    expect(w0.incarnation).toBe(2)
    // Resumed at iteration 40 (its last exchange before the crash), so it still ends at 100.
    expect(w0.clock).toBe(100)
    expect(w0.exchanges).toBe(20)
    expect(r.accuracy).toBeGreaterThan(0.8)
  }, 60_000)
})
