import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openCenterJob, type CaffeCenterJob } from "../src/center/caffe-job.js"
import { Center, layerCenter } from "../src/center/center-service.js"
import type { CenterEvent } from "../src/center/center-state.js"
import { runLocalWorkers, type LocalWorkersControl } from "../src/driver/local-workers.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import type { WorkerAssignment } from "../src/worker/trainer-spec.js"
import { tinyMnist, type TinyMnist } from "./support/tiny-mnist.js"

/**
 * Elastic workers on a real Caffe net in worker threads: a reduced LeNet on 640 MNIST images (10
 * batches of 64), two workers, a third joining after the first exchange. The Caffe trainers read the
 * record ranges the center assigns (rebuilding their net on each new range with their parameters,
 * iteration and momentum carried over); every epoch is read exactly once and the center learns.
 */
let tiny: TinyMnist
let job: CaffeCenterJob
beforeAll(async () => {
  tiny = await tinyMnist({ trainRecords: 640, testRecords: 100 })
  tiny.solver("elastic_solver.prototxt", { max_iter: 40 }, { test: false })
  job = await openCenterJob({ solverFile: "elastic_solver.prototxt", cwd: tiny.dir })
}, 60_000)
afterAll(async () => {
  await job?.close()
  if (tiny) fs.rmSync(tiny.dir, { recursive: true, force: true })
})

const assignment = (id: string, index: number, extra: Partial<WorkerAssignment> = {}): WorkerAssignment => ({
  workerId: id,
  token: "tok",
  partition: { index, count: 2 },
  period: 5,
  maxIter: 40,
  adaptivePeriod: false,
  spec: { kind: "caffe", solverPath: path.join(tiny.dir, "elastic_solver.prototxt"), workingDirectory: tiny.dir, backend: "cpu" },
  ...extra
})

describe("elastic Caffe workers in threads", () => {
  it("a joiner gets a range of MNIST records; epochs 0 and 1 are each read exactly once; the loss falls", async () => {
    const events: CenterEvent[] = []
    let pool: LocalWorkersControl | undefined
    let joined = false
    const outcomes = await Effect.runPromise(
      Effect.gen(function* () {
        yield* Center
        return yield* runLocalWorkers({ assignments: [assignment("w0", 0), assignment("w1", 1)], onStart: (p) => (pool = p) })
      }).pipe(
        Effect.scoped,
        Effect.provide(
          layerCenter(
            { token: "tok", settings: makeEasgdSettings({ rule: "downpour", period: 5 }), workers: 2, initial: job.initialParams(), elastic: true },
            {
              onEvent: (e) => {
                events.push(e)
                if (e.type === "exchange" && !joined && pool) {
                  joined = true
                  pool.join(assignment("w2", 0, { join: true }))
                }
              }
            }
          )
        )
      )
    )
    expect(outcomes.map((o) => o.workerId)).toEqual(["w0", "w1", "w2"])
    const spans = events.flatMap((e) => (e.type === "records-read" ? [e] : []))
    for (const epoch of [0, 1]) {
      const s = spans.filter((x) => x.epoch === epoch).sort((a, b) => a.from - b.from)
      let at = 0
      for (const x of s) {
        expect(x.from, JSON.stringify(s)).toBe(at)
        at = x.to
      }
      expect(at).toBe(640)
    }
    expect(new Set(spans.map((s) => s.workerId))).toEqual(new Set(["w0", "w1", "w2"]))
    const losses = events.flatMap((e) => (e.type === "exchange" ? [e.loss] : []))
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)) * 0.8)
  }, 120_000)
})
