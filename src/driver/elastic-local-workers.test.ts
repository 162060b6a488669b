import { Rng } from "@deepspark/engine"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Center, layerCenter } from "../center/center-service.js"
import type { CenterEvent } from "../center/center-state.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"
import { runLocalWorkers, type LocalWorkersControl } from "./local-workers.js"

/**
 * Elastic workers in threads: workers join and leave a running job; the center re-plans the records
 * (key ranges with cursors) so that every record of an epoch is read exactly once, and keeps learning.
 */
const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))
const RECORDS = problem.trainSize

const assignment = (id: string, index: number, extra: Partial<WorkerAssignment> = {}): WorkerAssignment => ({
  workerId: id,
  token: "tok",
  partition: { index, count: 2 },
  period: 5,
  maxIter: 200,
  adaptivePeriod: false,
  // 20 ms per iteration: a worker reads its half of epoch 0 (64 iterations) in about 1.3 s, so a
  // thread started at the first exchange usually arrives mid-epoch (the checks hold either way).
  spec: { kind: "softmax-problem", problemSeed: 3, seed: 100, iterationMs: 20 },
  ...extra
})

type Span = { workerId: string; epoch: number; from: number; to: number }

/** The spans of one epoch, sorted; whether they tile [0, RECORDS) with no overlap. */
const coverage = (spans: ReadonlyArray<Span>, epoch: number) => {
  const s = spans.filter((x) => x.epoch === epoch).sort((a, b) => a.from - b.from)
  let at = 0
  let overlap = 0
  let gaps = 0
  for (const x of s) {
    if (x.from < at) overlap += Math.min(at, x.to) - x.from
    if (x.from > at) gaps += x.from - at
    at = Math.max(at, x.to)
  }
  if (at < RECORDS) gaps += RECORDS - at
  return { overlap, gaps, readers: new Set(s.map((x) => x.workerId)) }
}

const run = (
  rule: string,
  initial: WorkerAssignment[],
  script: (exchanges: number, pool: LocalWorkersControl) => void
) => {
  const spans: Span[] = []
  const events: CenterEvent[] = []
  let pool: LocalWorkersControl | undefined
  const logs: string[] = []
  return Effect.runPromise(
    Effect.gen(function* () {
      const center = yield* Center
      const outcomes = yield* runLocalWorkers({ assignments: initial, backoff: "50 millis", log: (l) => logs.push(l), onStart: (p) => (pool = p) })
      return { outcomes, spans, events, logs, accuracy: problem.evaluate(yield* center.params).accuracy, state: yield* center.view }
    }).pipe(
      Effect.scoped,
      Effect.provide(
        layerCenter(
          { token: "tok", settings: makeEasgdSettings({ rule, period: 5, moving_rate: 0.3 }), workers: 2, initial: problem.init(new Rng(1)), elastic: true },
          {
            log: (l) => logs.push(l),
            onEvent: (e) => {
              events.push(e)
              if (e.type === "records-read") spans.push({ workerId: e.workerId, epoch: e.epoch, from: e.from, to: e.to })
              if (e.type === "exchange" && pool) script(e.exchanges, pool)
            }
          }
        )
      )
    )
  )
}

describe("elastic workers in threads", () => {
  it("a worker that joins mid-run gets records at once or half of a running worker's remaining range; epochs are read exactly once", async () => {
    const r = await run("async-easgd", [assignment("w0", 0), assignment("w1", 1)], (n, pool) => {
      if (n === 1) pool.join(assignment("w2", 0, { join: true }))
    })
    expect(r.outcomes.map((o) => o.workerId)).toEqual(["w0", "w1", "w2"])
    const joined = r.events.find((e) => e.type === "assigned" && e.workerId === "w2")
    expect(joined).toMatchObject({ why: "join" })
    // Arriving when every range of the epoch was held, it took the second half of a donor's rest.
    const i = r.events.indexOf(joined!)
    const split = r.events[i - 1]
    if (split?.type === "assigned" && split.why === "split" && joined?.type === "assigned")
      expect(split.assignment.to).toBe(joined.assignment.from)
    const c = coverage(r.spans, 0)
    expect(c).toMatchObject({ overlap: 0, gaps: 0 })
    expect(coverage(r.spans, 1)).toMatchObject({ overlap: 0, gaps: 0 })
    expect(new Set(r.spans.map((x) => x.workerId))).toEqual(new Set(["w0", "w1", "w2"]))
    // The joiner trained and the center kept learning from it.
    expect(r.state.workers.get("w2")!.exchanges).toBe(40)
    expect(r.accuracy).toBeGreaterThan(0.8)
  }, 60_000)

  it("a worker that leaves mid-run hands its remaining range to the others; the run finishes", async () => {
    const r = await run("async-easgd", [assignment("w0", 0), assignment("w1", 1)], (n, pool) => {
      if (n === 4) pool.leave("w1")
    })
    const w1 = r.outcomes.find((o) => o.workerId === "w1")!
    expect(w1.result).toMatchObject({ left: true })
    expect(r.logs.some((l) => /Worker w1 left the job/.test(l))).toBe(true)
    const c = coverage(r.spans, 0)
    expect(c).toMatchObject({ overlap: 0, gaps: 0 })
    // w0 read what w1 left of epoch 0.
    const w1Read = r.spans.filter((s) => s.workerId === "w1").reduce((a, s) => a + s.to - s.from, 0)
    expect(w1Read).toBeLessThan(RECORDS / 2)
    expect(r.state.workers.get("w0")!.exchanges).toBe(40)
    expect(r.accuracy).toBeGreaterThan(0.8)
  }, 60_000)

  it("join and leave in one run, with a synchronous rule whose rounds go on without the leaver", async () => {
    const r = await run("sync-avg", [assignment("w0", 0), assignment("w1", 1)], (n, pool) => {
      if (n === 1) pool.join(assignment("w2", 0, { join: true }))
      if (n === 30) pool.leave("w0")
    })
    expect(r.outcomes.map((o) => o.workerId)).toEqual(["w0", "w1", "w2"])
    expect(r.outcomes[0]!.result).toMatchObject({ left: true })
    expect(r.state.workers.get("w1")!.clock).toBe(200)
    expect(r.state.workers.get("w2")!.clock).toBe(200)
    for (const epoch of [0, 1]) expect(coverage(r.spans, epoch)).toMatchObject({ overlap: 0, gaps: 0 })
    expect(r.accuracy).toBeGreaterThan(0.8)
  }, 60_000)
})
