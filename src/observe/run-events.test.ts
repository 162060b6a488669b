import { Chunk, Effect, Fiber, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { readEventLog } from "./event-log.js"
import { ExchangeApplied, RunDone, TestResult } from "./run-event.js"
import { makeRunEventHub } from "./run-event-hub.js"
import { eventLogWriter, observeRun, plotWriter } from "./run-observers.js"

const exchange = (t: number, worker: string, loss: number) =>
  new ExchangeApplied({ t, worker, exchanges: 1, iteration: 10, loss, distance: 0.1, staleness: 0, itersPerSecond: 5, latencyMs: 3 })

/** One short "run": a few events published to a hub, written by the file observers. */
const fakeRun = (dir: string, seed: number, options: { eventLog?: boolean; plot?: boolean }) =>
  Effect.scoped(
    Effect.gen(function* () {
      const hub = yield* makeRunEventHub()
      const waits: Array<Effect.Effect<void>> = []
      if (options.eventLog) waits.push(yield* observeRun(hub, eventLogWriter(path.join(dir, "events.jsonl"))))
      if (options.plot) waits.push(yield* observeRun(hub, plotWriter(path.join(dir, "progress.svg"), "run")))
      hub.publish(exchange(1, "worker0", seed))
      hub.publish(exchange(2, "worker0", seed / 2))
      hub.publish(new TestResult({ t: 3, iteration: 20, accuracy: 0.5, loss: 1, outputs: [{ name: "accuracy", value: 0.5 }] }))
      hub.publish(new RunDone({ t: 4, exchanges: 2, seconds: 4 }))
      yield* hub.end
      for (const w of waits) yield* w
    })
  )

describe("a run's events", () => {
  it("reach every subscriber, also one that subscribes late, and their streams end with the run", async () => {
    const got = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const hub = yield* makeRunEventHub()
          const early = yield* hub.subscribe
          hub.publish(exchange(1, "worker0", 2))
          hub.publish(exchange(2, "worker1", 1))
          const late = Stream.runCollect(hub.events).pipe(Effect.fork)
          const lateFiber = yield* late
          hub.publish(new RunDone({ t: 3, exchanges: 2, seconds: 3 }))
          yield* hub.end
          hub.publish(exchange(4, "worker0", 9)) // after the end: nobody sees it
          const a = yield* Stream.runCollect(early)
          const b = yield* Fiber.join(lateFiber)
          return [Chunk.toArray(a).map((e) => e._tag), Chunk.toArray(b).map((e) => e._tag)]
        })
      )
    )
    expect(got[0]).toEqual(["ExchangeApplied", "ExchangeApplied", "RunDone"])
    expect(got[1]).toEqual(["ExchangeApplied", "ExchangeApplied", "RunDone"])
  })

  it("the event log is a fresh file per run: a second run's log and plot hold only its own events", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-run-events-"))
    await Effect.runPromise(fakeRun(dir, 3, { eventLog: true, plot: true }))
    await Effect.runPromise(fakeRun(dir, 7, { eventLog: true, plot: true }))
    const records = readEventLog(path.join(dir, "events.jsonl"))
    expect(records.map((r) => r.type)).toEqual(["exchange", "exchange", "test", "done"])
    expect(records[0]).toMatchObject({ t: 1, type: "exchange", worker: "worker0", loss: 7 })
    expect(fs.readFileSync(path.join(dir, "progress.svg"), "utf8").match(/<polyline/g)?.length).toBe(1) // worker0's loss only
  })

  it("the plot needs no event log, and is drawn during the run (after a test result), not only at the end", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-run-plot-"))
    const plot = path.join(dir, "progress.svg")
    const drawnBeforeEnd = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const hub = yield* makeRunEventHub()
          yield* observeRun(hub, plotWriter(plot, "live"))
          hub.publish(exchange(1, "worker0", 2))
          hub.publish(new TestResult({ t: 2, iteration: 10, accuracy: 0.4, outputs: [] }))
          // Give the plot's fiber a moment to consume; the run has not ended.
          yield* Effect.sleep("50 millis")
          return fs.existsSync(plot) ? fs.readFileSync(plot, "utf8") : ""
        })
      )
    )
    expect(drawnBeforeEnd).toContain("<svg")
    expect(drawnBeforeEnd).toContain("test accuracy")
    expect(fs.existsSync(path.join(dir, "events.jsonl"))).toBe(false)
  })
})


