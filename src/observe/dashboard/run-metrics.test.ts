import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { ExchangeApplied, TestResult } from "../run-event.js"
import { prometheusText, recordRunMetrics } from "./run-metrics.js"

describe("a run's Effect Metrics as Prometheus text", () => {
  it("exposes exchanges, per-worker gauges, the latency histogram and the center's test accuracy", async () => {
    const exchange = (worker: string, latencyMs: number) =>
      new ExchangeApplied({ t: 1, worker, exchanges: 1, iteration: 50, loss: 0.25, distance: 1.5, staleness: 2, itersPerSecond: 12.5, latencyMs })
    const text = await Effect.runPromise(
      Effect.forEach([exchange("w-a", 3), exchange("w-b", 700), new TestResult({ t: 2, iteration: 50, accuracy: 0.975, outputs: [] })], recordRunMetrics).pipe(
        Effect.zipRight(prometheusText)
      )
    )
    expect(text).toMatch(/^# TYPE deepspark_exchanges_total counter$/m)
    expect(Number(/^deepspark_exchanges_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(2)
    expect(text).toMatch(/^deepspark_worker_loss\{worker="w-a"\} 0\.25$/m)
    expect(text).toMatch(/^deepspark_worker_staleness\{worker="w-b"\} 2$/m)
    expect(text).toMatch(/^deepspark_center_test_accuracy 0\.975$/m)
    expect(text).toMatch(/^# TYPE deepspark_exchange_latency_ms histogram$/m)
    expect(text).toMatch(/^deepspark_exchange_latency_ms_bucket\{le="4"\} [1-9]\d*$/m)
    expect(text).toMatch(/^deepspark_exchange_latency_ms_bucket\{le="\+Inf"\} [2-9]\d*$/m)
    expect(text).toMatch(/^deepspark_exchange_latency_ms_count [2-9]\d*$/m)
  })
})
