/**
 * The deterministic simulator: N virtual workers training one synthetic problem with a chosen update
 * rule, on virtual clocks with per-worker compute speed and network delay. Same seed, same numbers.
 * Use it to see what staleness, α (moving rate) and τ (period) do before spending real machines.
 *
 *   npm run example:simulator                      # compare 1..16 workers, async EASGD
 *   node bin/run-ts.mjs examples/simulator.ts --rule sync-avg --alpha 0.2 --period 4
 */
import { Rng } from "@deepspark/engine"
import { parseArgs } from "node:util"
import { makeEasgdSettings, simulate, softmaxRegressionProblem } from "../src/index.js"

const { values } = parseArgs({
  options: {
    rule: { type: "string", default: "async-easgd" },
    alpha: { type: "string", default: "0.2" },
    period: { type: "string", default: "4" },
    iterations: { type: "string", default: "200" },
    workers: { type: "string", default: "1,2,4,8,16" },
    target: { type: "string", default: "0.85" }
  }
})

const workerCounts = values.workers!.split(",").map(Number)
const rows: string[][] = [["workers", "rule", "final accuracy", "final loss", `time to ${values.target}`, "mean staleness"]]
for (const n of workerCounts) {
  const rule = n === 1 && values.rule !== "single" ? "single" : values.rule!
  const result = simulate({
    // A fresh problem per run: the same seeded data every time.
    problem: softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s)),
    settings: makeEasgdSettings({ rule, period: Number(values.period), moving_rate: Number(values.alpha) }),
    // Each worker: 1 virtual second per iteration (±30%), 50 ms ± exponential network delay.
    workers: Array.from({ length: n }, () => ({
      compute: { kind: "lognormal", median: 1, sigma: 0.3 } as const,
      network: { kind: "exponential", mean: 0.05 } as const
    })),
    // DeepSpark's convention: every worker runs the full iteration count on its partition.
    iterationsPerWorker: Math.ceil(Number(values.iterations) / 1),
    seed: 42,
    evalEveryExchanges: n
  })
  const meanStaleness = result.workers.reduce((s, w) => s + w.meanStaleness, 0) / n
  const t = result.timeToAccuracy(Number(values.target))
  rows.push([String(n), rule, result.final.accuracy.toFixed(4), result.final.loss.toFixed(4), t === undefined ? "never" : `${t.toFixed(1)} s`, meanStaleness.toFixed(2)])
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join("  "))
