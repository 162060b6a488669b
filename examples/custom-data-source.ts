/**
 * Training on data made in code, with no database: a custom record source (records generated on
 * demand by index) becomes a `Dataset`, its partitions are values, and `Training.distributed` trains
 * one worker per partition on a Caffe net whose Data layer names no real database. (An in-memory array
 * works the same way: `Dataset.fromIterable(array)`.)
 *
 *   node bin/run-ts.mjs examples/custom-data-source.ts [--iterations 200] [--records 3000]
 */
import { silentLogger } from "@deepspark/engine"
import { Effect, Stream } from "effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Dataset, Rules, Training, type DistributedTrainResult } from "../src/index.js"
import { stripesImage } from "./pipeline/stripes-data.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({ options: { iterations: { type: "string", default: "200" }, records: { type: "string", default: "3000" } } })
const records = Number(values.records)

// A custom source: random access by index, keys in order; nothing is stored.
const stripes = Dataset.fromSource(
  "stripes",
  Effect.succeed({
    name: "stripes",
    size: records,
    keyAt: (i: number) => String(i).padStart(8, "0"),
    at: stripesImage
  })
)

const program = Effect.gen(function* () {
  const job = Training.fromCaffe("examples/pipeline/stripes_solver.prototxt", { cwd: root })
  const run = yield* Training.distributed(job, {
    partitions: stripes.partition(2),
    rule: Rules.asyncEasgd({ period: 10, movingRate: 0.2 }),
    maxIter: Number(values.iterations),
    log: silentLogger
  })
  // The workers' training loss at their first and last exchanges, from the run's events.
  const losses = yield* Stream.runFold(run.events, [] as number[], (acc, e) => (e._tag === "ExchangeApplied" ? [...acc, e.loss] : acc))
  const result: DistributedTrainResult = yield* run.result
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  console.log(`trained 2 workers on ${records} generated records: ${result.exchanges} exchanges in ${result.seconds.toFixed(1)} s`)
  console.log(`training loss: first exchanges ${mean(losses.slice(0, 2)).toFixed(4)}, last exchanges ${mean(losses.slice(-2)).toFixed(4)}`)
  console.log(`center model ${path.relative(root, result.snapshot.caffemodel)}`)
})

Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
