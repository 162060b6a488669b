import { Rng } from "@deepspark/engine"
import { describe, expect, it } from "vitest"
import { ruleByName, ruleNames } from "../easgd/rule-registry.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { fixed } from "./distributions.js"
import { softmaxRegressionProblem } from "./problem.js"
import { simulate } from "./simulator.js"

const problem = () => softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))

describe("the deterministic simulator", () => {
  it("is reproducible: same seed, same result", () => {
    const cfg = {
      settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
      workers: [
        { compute: { kind: "lognormal", median: 1, sigma: 0.3 }, network: { kind: "exponential", mean: 0.2 } },
        { compute: { kind: "uniform", min: 0.5, max: 2 }, network: fixed(0.1) }
      ] as const,
      iterationsPerWorker: 60,
      seed: 11
    }
    const a = simulate({ ...cfg, problem: problem() })
    const b = simulate({ ...cfg, problem: problem() })
    expect(a.timeline).toEqual(b.timeline)
    expect([...a.center]).toEqual([...b.center])
    const c = simulate({ ...cfg, seed: 12, problem: problem() })
    expect([...c.center]).not.toEqual([...a.center])
  })

  for (const rule of ruleNames.filter((r) => !ruleByName(r).singleWorker)) {
    it(`${rule}: 4 workers train the center well above chance`, () => {
      const r = simulate({
        problem: problem(),
        settings: makeEasgdSettings({ rule, period: 4, moving_rate: rule === "sync-easgd" ? 0.2 : 0.3 }),
        workers: 4,
        iterationsPerWorker: 120,
        seed: 5
      })
      expect(r.timeline[0]!.accuracy).toBeLessThan(0.5)
      expect(r.final.accuracy).toBeGreaterThan(0.8)
      expect(r.final.loss).toBeLessThan(r.timeline[0]!.loss)
      expect(r.workers.every((w) => w.iterations === 120)).toBe(true)
      expect(r.workers.every((w) => w.exchanges === 30)).toBe(true)
    })
  }

  it("single: one worker, the center mirrors it", () => {
    const r = simulate({
      problem: problem(),
      settings: makeEasgdSettings({ rule: "single", period: 10 }),
      workers: 1,
      iterationsPerWorker: 200,
      seed: 5
    })
    expect(r.final.accuracy).toBeGreaterThan(0.8)
    expect(() =>
      simulate({ problem: problem(), settings: makeEasgdSettings({ rule: "single" }), workers: 2, iterationsPerWorker: 1, seed: 1 })
    ).toThrow(/one worker/)
  })

  it("staleness grows with the number of workers; exchange latency with network delay", () => {
    const run = (workers: number, delay: number) =>
      simulate({
        problem: problem(),
        settings: makeEasgdSettings({ period: 2, moving_rate: 0.2 }),
        workers: Array.from({ length: workers }, () => ({ compute: { kind: "lognormal", median: 1, sigma: 0.5 } as const, network: fixed(delay) })),
        iterationsPerWorker: 40,
        seed: 1
      })
    const mean = (r: ReturnType<typeof run>) => r.workers.reduce((s, w) => s + w.meanStaleness, 0) / r.workers.length
    // Each other worker pushes about once per cycle, so staleness ≈ N − 1 whatever the delay.
    expect(mean(run(8, 0.5))).toBeGreaterThan(5)
    expect(mean(run(2, 0.5))).toBeLessThan(2)
    const latency = (r: ReturnType<typeof run>) => r.workers[0]!.meanExchangeLatency
    expect(latency(run(8, 0.5))).toBeGreaterThan(latency(run(8, 0.01)) + 0.9)
  })

  it("a too-small α with many workers converges slower than a larger one (the EASGD tuning lesson)", () => {
    const run = (alpha: number) =>
      simulate({
        problem: problem(),
        settings: makeEasgdSettings({ rule: "async-easgd", period: 4, moving_rate: alpha }),
        workers: 16,
        iterationsPerWorker: 40,
        seed: 2,
        evalEveryExchanges: 16
      })
    expect(run(0.01).final.loss).toBeGreaterThan(run(0.3).final.loss)
  })

  it("adaptive τ exchanges when the loss since the last exchange exceeds the first period's", () => {
    const r = simulate({
      problem: problem(),
      settings: makeEasgdSettings({ period: 5, adaptive_period: true }),
      workers: 2,
      iterationsPerWorker: 100,
      seed: 4
    })
    // As the loss falls, periods lengthen: fewer exchanges than the fixed-τ 20.
    for (const w of r.workers) expect(w.exchanges).toBeLessThan(20)
    expect(r.final.accuracy).toBeGreaterThan(0.8)
  })

  /** The rules' comparison of bench/rules-simulator.ts in small: lr 0.005, 20 ms steps, target 90 %. */
  const timeTo90 = (values: Record<string, string | number | boolean>, workers: number) =>
    simulate({
      problem: softmaxRegressionProblem({ seed: 3, separation: 0.6, lr: 0.005 }, (s) => new Rng(s)),
      settings: makeEasgdSettings({ period: 10, ...values }),
      workers: Array.from({ length: workers }, () => ({ compute: { kind: "lognormal", median: 0.02, sigma: 0.1 } as const, network: fixed(0.001) })),
      iterationsPerWorker: 300,
      seed: 1,
      evalEveryExchanges: workers,
      centerService: fixed(0.002)
    }).timeToAccuracy(0.9) ?? Infinity

  it("downpour adds the workers' progress: 4 workers reach 90 % in under half the time of 1; async EASGD does not get there", () => {
    const sum = { rule: "downpour", progress_warmup: 0, progress_gain: 0 }
    const one = timeTo90(sum, 1)
    const four = timeTo90(sum, 4)
    expect(four).toBeLessThan(one / 2)
    // Its defaults (warm-up from the mean, at most 2 workers' worth) still beat one worker, by less.
    const bounded = timeTo90({ rule: "downpour" }, 4)
    expect(bounded).toBeLessThan(one)
    expect(bounded).toBeGreaterThan(four)
    expect(timeTo90({ rule: "async-easgd", moving_rate: 0.2 }, 4)).toBe(Infinity)
  })

  it("async-diloco gets faster with more workers; staleness-aware downpour gives the speed-up back", () => {
    expect(timeTo90({ rule: "async-diloco" }, 8)).toBeLessThan(timeTo90({ rule: "async-diloco" }, 1))
    const sum = { rule: "downpour", progress_warmup: 0, progress_gain: 0 }
    expect(timeTo90({ ...sum, staleness_aware: true }, 4)).toBeGreaterThan(2 * timeTo90(sum, 4))
  })

  it("linear lr scaling multiplies each worker's lr by N after the warm-up", () => {
    const plain = timeTo90({ rule: "sync-avg" }, 4)
    const scaled = timeTo90({ rule: "sync-avg", lr_scaling: "linear", lr_warmup: 20 }, 4)
    expect(scaled).toBeLessThan(plain / 2)
  })
})
