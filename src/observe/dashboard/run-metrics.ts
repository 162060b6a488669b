import { Effect, Metric, MetricBoundaries, MetricState, Option } from "effect"
import type { RunEvent } from "../run-event.js"

/**
 * A run's progress as Effect Metrics (process-wide, as one Prometheus target), fed from its events,
 * and their Prometheus text exposition (format 0.0.4) for `/metrics`.
 */
const exchanges = Metric.counter("deepspark_exchanges_total", { description: "elastic exchanges the center applied" })
const workerLoss = Metric.gauge("deepspark_worker_loss", { description: "a worker's mean training loss since its previous exchange" })
const itersPerSecond = Metric.gauge("deepspark_worker_iterations_per_second", { description: "a worker's training speed" })
const staleness = Metric.gauge("deepspark_worker_staleness", { description: "center updates between a worker's pull and its exchange" })
const distance = Metric.gauge("deepspark_worker_distance", { description: "‖x_i − x̃‖ at a worker's exchange" })
const workerIteration = Metric.gauge("deepspark_worker_iteration", { description: "a worker's local iteration" })
const latency = Metric.histogram(
  "deepspark_exchange_latency_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 14 }),
  "round-trip time of a worker's exchange, in milliseconds"
)
const testAccuracy = Metric.gauge("deepspark_center_test_accuracy", { description: "the center's accuracy on test net #0" })
const testLoss = Metric.gauge("deepspark_center_test_loss", { description: "the center's loss on test net #0" })
const tests = Metric.counter("deepspark_center_tests_total", { description: "tests of the center" })
const restarts = Metric.counter("deepspark_worker_restarts_total", { description: "workers that re-registered after dying" })
const lost = Metric.counter("deepspark_workers_lost_total", { description: "workers dropped or reset after diverging" })
const snapshots = Metric.counter("deepspark_snapshots_total", { description: "snapshots and checkpoints written" })

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v)

export const recordRunMetrics = (e: RunEvent): Effect.Effect<void> => {
  switch (e._tag) {
    case "ExchangeApplied": {
      const w = (m: Metric.Metric.Gauge<number>) => Metric.tagged(m, "worker", e.worker)
      return Effect.all([
        Metric.increment(exchanges),
        finite(e.loss) ? Metric.set(w(workerLoss), e.loss) : Effect.void,
        Metric.set(w(itersPerSecond), e.itersPerSecond),
        Metric.set(w(staleness), e.staleness),
        finite(e.distance) ? Metric.set(w(distance), e.distance) : Effect.void,
        Metric.set(w(workerIteration), e.iteration),
        Metric.update(latency, e.latencyMs)
      ]).pipe(Effect.asVoid)
    }
    case "TrainLoss":
      return Effect.all([
        Metric.set(Metric.tagged(workerLoss, "worker", e.worker), e.loss),
        Metric.set(Metric.tagged(workerIteration, "worker", e.worker), e.iteration),
        e.itersPerSecond !== undefined ? Metric.set(Metric.tagged(itersPerSecond, "worker", e.worker), e.itersPerSecond) : Effect.void
      ]).pipe(Effect.asVoid)
    case "TestResult":
      return Effect.all([
        Metric.increment(tests),
        finite(e.accuracy) ? Metric.set(testAccuracy, e.accuracy) : Effect.void,
        finite(e.loss) ? Metric.set(testLoss, e.loss) : Effect.void
      ]).pipe(Effect.asVoid)
    case "WorkerRestarted":
      return Metric.increment(restarts)
    case "WorkerLost":
      return Metric.increment(lost)
    case "SnapshotWritten":
      return Metric.increment(snapshots)
    default:
      return Effect.void
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const labels = (tags: ReadonlyArray<{ key: string; value: string }>, extra: ReadonlyArray<readonly [string, string]> = []) => {
  const all = [...tags.map((t) => [t.key, t.value] as const), ...extra]
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`
}
const num = (v: number | bigint) => (typeof v === "bigint" ? v.toString() : Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN")

/** Every `deepspark_` metric in Prometheus's text format. */
export const prometheusText: Effect.Effect<string> = Effect.map(Metric.snapshot, (pairs) => {
  const byName = new Map<string, { help: string; type: string; lines: string[] }>()
  for (const { metricKey: key, metricState: state } of pairs) {
    if (!key.name.startsWith("deepspark_")) continue
    const tags = key.tags
    const help = Option.getOrElse(key.description, () => key.name)
    let type: string
    const lines: string[] = []
    if (MetricState.isCounterState(state)) {
      type = "counter"
      lines.push(`${key.name}${labels(tags)} ${num(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      type = "gauge"
      lines.push(`${key.name}${labels(tags)} ${num(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      type = "histogram"
      for (const [le, count] of state.buckets) lines.push(`${key.name}_bucket${labels(tags, [["le", num(le)]])} ${count}`)
      if (!state.buckets.some(([le]) => le === Infinity)) lines.push(`${key.name}_bucket${labels(tags, [["le", "+Inf"]])} ${state.count}`)
      lines.push(`${key.name}_sum${labels(tags)} ${num(state.sum)}`, `${key.name}_count${labels(tags)} ${state.count}`)
    } else continue
    const entry = byName.get(key.name) ?? { help, type, lines: [] }
    entry.lines.push(...lines)
    byName.set(key.name, entry)
  }
  return (
    [...byName.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, m]) => [`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`, ...m.lines.sort()].join("\n"))
      .join("\n") + "\n"
  )
})
