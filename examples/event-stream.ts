/**
 * Consuming a run's progress: `run.events` is a Stream of typed RunEvents (RunStarted, ExchangeApplied,
 * WorkerJoined / WorkerRestarted / WorkerLost / WorkerStopped, TestResult, SnapshotWritten, RunDone)
 * that any number of consumers read, each from the start of the run. Here three read it at once: a
 * progress printer, a per-worker summary, and your own callback (an early-stopping rule would go there).
 *
 *   node bin/run-ts.mjs examples/event-stream.ts [--iterations 100]
 */
import { silentLogger } from "@deepspark/engine"
import { Effect, Stream } from "effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Dataset, Rules, Training, type RunEvent } from "../src/index.js"
import { stripesImage } from "./pipeline/stripes-data.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({ options: { iterations: { type: "string", default: "100" } } })

const describe = (e: RunEvent): string | undefined => {
  switch (e._tag) {
    case "RunStarted":
      return `started: ${e.workers} workers, ${e.rule}`
    case "WorkerJoined":
      return `${e.worker} joined`
    case "ExchangeApplied":
      return e.exchanges % 5 === 0 ? `exchange ${e.exchanges}: ${e.worker} at iteration ${e.iteration}, loss ${e.loss.toFixed(4)}, staleness ${e.staleness}` : undefined
    case "WorkerStopped":
      return `${e.worker} stopped (${e.reason})`
    case "SnapshotWritten":
      return `snapshot ${path.relative(root, e.file)}`
    case "RunDone":
      return `done: ${e.exchanges} exchanges in ${e.seconds.toFixed(1)} s`
    default:
      return undefined
  }
}

const program = Effect.gen(function* () {
  const data = Dataset.fromIterable(Array.from({ length: 1200 }, (_, i) => stripesImage(i)))
  const run = yield* Training.distributed(Training.fromCaffe("examples/pipeline/stripes_solver.prototxt", { cwd: root }), {
    partitions: data.partition(2),
    rule: Rules.asyncEasgd({ period: 10, movingRate: 0.2 }),
    maxIter: Number(values.iterations),
    log: silentLogger
  })
  const printer = Stream.runForEach(run.events, (e) => Effect.sync(() => describe(e) && console.log(describe(e))))
  const perWorker = Stream.runFold(run.events, new Map<string, number>(), (m, e) => (e._tag === "ExchangeApplied" ? m.set(e.worker, (m.get(e.worker) ?? 0) + 1) : m))
  let lowest = Infinity
  const callback = (e: RunEvent) => {
    if (e._tag === "ExchangeApplied") lowest = Math.min(lowest, e.loss)
  }
  const [, counts] = yield* Effect.all([printer, perWorker, Stream.runForEach(run.events, (e) => Effect.sync(() => callback(e)))], { concurrency: "unbounded" })
  yield* run.result
  console.log(`exchanges per worker: ${[...counts].map(([w, n]) => `${w} ${n}`).join(", ")}; lowest training loss ${lowest.toFixed(4)}`)
})

Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
