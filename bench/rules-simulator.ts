import { Rng } from "@deepspark/engine"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { ruleByName, type RuleName } from "../src/easgd/rule-registry.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { fixed } from "../src/simulator/distributions.js"
import { softmaxRegressionProblem } from "../src/simulator/problem.js"
import { simulate } from "../src/simulator/simulator.js"

/**
 * `npm run bench rules`: the update rules compared in the deterministic simulator (no real net: the
 * softmax-regression problem of src/simulator/problem.ts, plain SGD at lr 0.005 per worker), for
 * N = 1 … 16 workers, each worker running `iterations` local steps of 20 ms (lognormal, σ 0.1) and
 * exchanging over a 1 ms link with a center that takes 2 ms per exchange (the measured LeNet costs of
 * `npm run bench dist`, rounded). Each cell is the median over 3 seeds of the simulated seconds until
 * the center first tests at or above the target, and the final accuracy. It is the evidence behind the
 * README's guidance table; the MNIST benchmark (`npm run bench accuracy`) is the real measurement.
 *
 * Flags (`=` form): --workers=1,2,4,8,16 --target=0.9 --iterations=300 --lr=0.005 --only=downpour,diloco
 */
interface Variant {
  readonly label: string
  readonly settings: Record<string, string | number | boolean>
}

const variants: ReadonlyArray<Variant> = [
  { label: "async-easgd τ10 α0.1", settings: { rule: "async-easgd", period: 10, moving_rate: 0.1 } },
  { label: "async-easgd τ10 α0.2", settings: { rule: "async-easgd", period: 10, moving_rate: 0.2 } },
  { label: "async-easgd τ10 α0.2 stale-aware", settings: { rule: "async-easgd", period: 10, moving_rate: 0.2, staleness_aware: true } },
  { label: "async-easgd τ10 α0.5", settings: { rule: "async-easgd", period: 10, moving_rate: 0.5 } },
  { label: "easgd τ10 α0.2", settings: { rule: "easgd", period: 10, moving_rate: 0.2 } },
  { label: "sync-easgd τ10 α0.2", settings: { rule: "sync-easgd", period: 10, moving_rate: 0.2 } },
  { label: "sync-avg τ10", settings: { rule: "sync-avg", period: 10 } },
  { label: "downpour τ5", settings: { rule: "downpour", period: 5 } },
  { label: "downpour τ10", settings: { rule: "downpour", period: 10 } },
  { label: "downpour τ10 stale-aware", settings: { rule: "downpour", period: 10, staleness_aware: true } },
  { label: "diloco τ10 lr0.7 μ0.9", settings: { rule: "diloco", period: 10 } },
  { label: "diloco τ10 lr1 μ0", settings: { rule: "diloco", period: 10, outer_lr: 1, outer_momentum: 0 } },
  { label: "async-diloco τ10 lr0.7 μ0.9", settings: { rule: "async-diloco", period: 10, outer_lr: 0.7 } },
  { label: "async-diloco τ10 lr0.7 μ0.5", settings: { rule: "async-diloco", period: 10, outer_lr: 0.7, outer_momentum: 0.5 } },
  { label: "async-diloco τ10 lr0.35 μ0.9", settings: { rule: "async-diloco", period: 10, outer_lr: 0.35 } },
  { label: "async-diloco τ10 lr1 μ0", settings: { rule: "async-diloco", period: 10, outer_lr: 1, outer_momentum: 0 } },
  { label: "sync-avg τ10 lr×N", settings: { rule: "sync-avg", period: 10, lr_scaling: "linear", lr_warmup: 50 } },
  { label: "downpour τ10 lr×N", settings: { rule: "downpour", period: 10, lr_scaling: "linear", lr_warmup: 50 } }
]

const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

export const benchRulesSimulator = async (): Promise<void> => {
  const workerCounts = (flag("workers") ?? "1,2,4,8,16").split(",").map(Number)
  const target = Number(flag("target") ?? 0.9)
  const iterations = Number(flag("iterations") ?? 300)
  const only = flag("only")?.split(",")
  const lr = Number(flag("lr") ?? 0.005)
  const computeS = 0.02
  const chosen = variants.filter((v) => !only || only.includes(String(v.settings.rule)))
  console.log(
    `simulated seconds to ${(target * 100).toFixed(0)} % (median of 3 seeds; — = not reached) / final accuracy; ` +
      `${iterations} iterations per worker of ${computeS * 1000} ms; N = 1 runs the rule with one worker`
  )
  console.log(`${"rule and settings".padEnd(34)} | ${workerCounts.map((n) => `N=${n}`.padStart(13)).join(" | ")}`)
  for (const v of chosen) {
    const rule = ruleByName(String(v.settings.rule) as RuleName)
    const cells = workerCounts.map((n) => {
      if (rule.singleWorker && n !== 1) return "".padStart(13)
      const times: number[] = []
      const finals: number[] = []
      for (const seed of [1, 2, 3]) {
        const r = simulate({
          problem: softmaxRegressionProblem({ seed: 3, separation: 0.6, lr }, (s) => new Rng(s)),
          settings: makeEasgdSettings(v.settings),
          workers: Array.from({ length: n }, () => ({ compute: { kind: "lognormal", median: computeS, sigma: 0.1 } as const, network: fixed(0.001) })),
          iterationsPerWorker: iterations,
          seed,
          evalEveryExchanges: n,
          centerService: fixed(0.002)
        })
        times.push(r.timeToAccuracy(target) ?? Infinity)
        finals.push(r.final.accuracy)
      }
      const t = median(times)
      return `${Number.isFinite(t) ? `${t.toFixed(2)} s` : "—"} / ${median(finals).toFixed(3)}`.padStart(13)
    })
    console.log(`${v.label.padEnd(34)} | ${cells.join(" | ")}`)
  }
}

// Run directly: node bin/run-ts.mjs bench/rules-simulator.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await benchRulesSimulator()
