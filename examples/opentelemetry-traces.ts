/**
 * OpenTelemetry traces of a distributed run through @effect/opentelemetry: provide its tracer to the
 * program and the run's spans are exported — one per RPC the center serves (the trainers' Register,
 * Exchange, Heartbeat and Stop, as @effect/rpc names them: `RpcServer.<tag>`) and one per test of the
 * center (`deepspark.center.test`, with the exchange count). Here an in-memory exporter collects them and
 * the script prints a count per span name; use an OTLP exporter to send them to a collector instead.
 *
 *   node bin/run-ts.mjs examples/opentelemetry-traces.ts [--iterations 40]
 */
import { NodeSdk } from "@effect/opentelemetry"
import { silentLogger } from "@deepspark/engine"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Dataset, Rules, Training } from "../src/index.js"
import { stripesImage } from "./pipeline/stripes-data.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({ options: { iterations: { type: "string", default: "40" } } })

const exporter = new InMemorySpanExporter()
const Tracing = NodeSdk.layer(() => ({ resource: { serviceName: "deepspark-example" }, spanProcessor: new SimpleSpanProcessor(exporter) }))

const program = Training.runDistributed(Training.fromCaffe("examples/pipeline/stripes_solver.prototxt", { cwd: root }), {
  partitions: Dataset.fromIterable(Array.from({ length: 600 }, (_, i) => stripesImage(i))).partition(2),
  rule: Rules.asyncEasgd({ period: 10, movingRate: 0.2 }),
  maxIter: Number(values.iterations),
  testInterval: 2,
  log: silentLogger,
  testLog: () => {},
  workerLogs: false
})

// The spans are read before the tracer's layer closes: shutting the SDK down empties the in-memory exporter.
const traced = Effect.gen(function* () {
  const result = yield* program
  const counts = new Map<string, number>()
  for (const span of exporter.getFinishedSpans()) counts.set(span.name, (counts.get(span.name) ?? 0) + 1)
  return `${result.exchanges} exchanges; spans: ${[...counts].sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => `${n} ${c}`).join(", ")}`
}).pipe(Effect.provide(Tracing))

Effect.runPromise(traced).then(console.log, (e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
