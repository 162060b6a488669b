/**
 * The pure parts of `npm run bench -- accuracy` (bench/time-to-accuracy.ts and bench/accuracy/): reading
 * Caffe's test lines into time-to-target records, the flags, medians over seeds, cells and the README
 * table. The end-to-end run on MNIST is in test/long/time-to-accuracy.test.ts.
 */
import os from "node:os"
import { describe, expect, it } from "vitest"
import { AccuracyTracker, firstReaching, type TestPoint } from "../bench/accuracy/accuracy-tracker.js"
import { buildCells } from "../bench/accuracy/cells.js"
import { formatMarkdownTable } from "../bench/accuracy/markdown-table.js"
import { median } from "../bench/accuracy/median.js"
import { formatTargetChecks } from "../bench/accuracy/target-checks.js"
import { combinations, globalSettingApplies, parseAccuracyArgs, settingsLabel } from "../bench/accuracy/options.js"
import { readRunRecords, type RunRecord } from "../bench/accuracy/run-record.js"
import { ruleNames } from "../src/easgd/index.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"

const glog = (msg: string) => `I1126 11:51:16.547768 18787 solver.ts:261] ${msg}`
const flushMicrotasks = () => new Promise<void>((r) => setTimeout(r, 0))

describe("AccuracyTracker", () => {
  it("records the first test of net #0 at or above each target, with its iteration, wall time, test time and CPU", async () => {
    let now = 0
    let cpu = 0
    let doneCalls = 0
    const t = new AccuracyTracker([0.985, 0.99], () => now, () => cpu, () => doneCalls++)
    const test = (iteration: number, accuracy: string, start: number, end: number, loss = "0.04") => {
      now = start
      t.onLine(glog(`Iteration ${iteration}, Testing net (#0)`))
      now = end
      cpu = end * 1.5
      t.onLine(glog(`    Test net output #0: accuracy = ${accuracy}`))
      t.onLine(glog(`    Test net output #1: loss = ${loss} (* 1 = ${loss} loss)`))
    }
    test(500, "0.9731", 40, 43)
    expect(t.reached.size).toBe(0)
    test(1000, "0.985", 80, 84) // exactly the target counts
    expect(t.reached.get(0.985)).toEqual({ seconds: 84, iteration: 1000, accuracy: 0.985, testSeconds: 4, cpuSeconds: 126 })
    expect(t.done).toBe(false)
    test(1500, "0.9849", 120, 123) // falling back does not undo a crossing
    expect(t.reached.get(0.985)!.iteration).toBe(1000)
    test(2000, "0.9901", 160, 163)
    expect(t.reached.get(0.99)!.seconds).toBe(163)
    expect(t.done).toBe(true)
    await flushMicrotasks()
    expect(doneCalls).toBe(1)
    test(2500, "0.9911", 200, 203)
    await flushMicrotasks()
    expect(doneCalls).toBe(1)
    expect(t.tests.map((p) => p.accuracy)).toEqual([0.9731, 0.985, 0.9849, 0.9901, 0.9911])
  })

  it("takes a test whose loss is not finite for a diverged net: it reaches nothing and does not end the run", async () => {
    let doneCalls = 0
    const t = new AccuracyTracker([0.99], () => 10, () => 0, () => doneCalls++)
    // Caffe's Accuracy layer counts NaN scores as correct: accuracy = 1 beside loss = nan.
    t.onLine(glog("Iteration 100, Testing net (#0)"))
    t.onLine(glog("    Test net output #0: accuracy = 1"))
    t.onLine(glog("    Test net output #1: loss = nan (* 1 = nan loss)"))
    await flushMicrotasks()
    expect(t.done).toBe(false)
    expect(doneCalls).toBe(0)
    expect(t.tests).toEqual([{ seconds: 10, iteration: 100, accuracy: 1, testSeconds: 0, cpuSeconds: 0, diverged: true }])
    // A non-finite output before the accuracy line marks it too.
    t.onLine(glog("Iteration 200, Testing net (#0)"))
    t.onLine(glog("    Test net output #0: loss = inf (* 1 = inf loss)"))
    t.onLine(glog("    Test net output #1: accuracy = 1"))
    expect(t.tests[1]!.diverged).toBe(true)
    t.onLine(glog("Iteration 300, Testing net (#0)"))
    t.onLine(glog("    Test net output #0: accuracy = 0.995"))
    t.onLine(glog("    Test net output #1: loss = 0.03 (* 1 = 0.03 loss)"))
    await flushMicrotasks()
    expect(t.reached.get(0.99)!.iteration).toBe(300)
    expect(doneCalls).toBe(1)
  })

  it("ignores other test nets, non-accuracy outputs, train outputs and outputs with no test started", () => {
    const t = new AccuracyTracker([0.5], () => 1, () => 0)
    t.onLine(glog("    Test net output #0: accuracy = 0.99")) // no "Testing net" line before it
    t.onLine(glog("    Train net output #0: accuracy = 0.99"))
    t.onLine(glog("Iteration 100, Testing net (#1)"))
    t.onLine(glog("    Test net output #0: accuracy = 0.99"))
    t.onLine(glog("Iteration 100, Testing net (#0)"))
    t.onLine(glog("    Test net output #0: loss = 0.99 (* 1 = 0.99 loss)"))
    expect(t.tests).toEqual([])
    t.onLine(glog("    Test net output #1: accuracy = 0.6"))
    expect(t.reached.get(0.5)!.iteration).toBe(100)
  })

  it("firstReaching reads the same from recorded tests, skipping diverged ones", () => {
    const p = (iteration: number, accuracy: number, diverged = false): TestPoint => ({ seconds: iteration / 10, iteration, accuracy, testSeconds: 1, cpuSeconds: 1, ...(diverged ? { diverged: true as const } : {}) })
    const m = firstReaching([p(250, 0.97), p(500, 1, true), p(750, 0.986), p(1000, 0.991)], [0.985, 0.99, 0.995])
    expect(m.get(0.985)!.iteration).toBe(750)
    expect(m.get(0.99)!.iteration).toBe(1000)
    expect(m.has(0.995)).toBe(false)
  })
})

describe("median", () => {
  it("takes the middle value, the mean of the two middle ones, and counts a missed target (∞) as the slowest", () => {
    expect(median([])).toBeUndefined()
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([10, Infinity, 20])).toBe(20)
    expect(median([10, Infinity, Infinity])).toBe(Infinity)
    expect(median([10, Infinity])).toBe(Infinity)
  })
})

describe("parseAccuracyArgs", () => {
  // A subset of the exported rules stands for "whatever src/easgd exports" (makeEasgdSettings checks each).
  const rules = ["async-easgd", "easgd", "downpour", "single"]
  it("runs every given distributed rule on 2, 4, 8 workers, 3 seeds, by default, and reads = flags beside suite names", () => {
    const d = parseAccuracyArgs(["accuracy"], rules, "/repo")
    expect(d.variants).toEqual([
      { rule: "async-easgd", settings: {} },
      { rule: "easgd", settings: {} },
      { rule: "downpour", settings: {} }
    ])
    expect(d).toMatchObject({ workers: [2, 4, 8], seeds: [1701, 1702, 1703], targets: [0.985, 0.99], capSeconds: 420, testInterval: 250, backend: "cpu", outDir: "/repo/out/bench-accuracy", quick: false, report: false })
    const o = parseAccuracyArgs(["accuracy", "--rules=downpour,single", "--workers=4,1,4", "--seeds=2", "--seed-base=7", "--targets=0.99,0.9", "--cap-s=60"], rules, "/repo")
    expect(o.variants).toEqual([{ rule: "downpour", settings: {} }]) // single is the baseline, always run
    expect(o).toMatchObject({ workers: [1, 4], seeds: [7, 8], targets: [0.9, 0.99], capSeconds: 60 })
  })

  it("runs the lone solver as `deepspark train -solver` does (GEMMs on every core, or DEEPSPARK_CPU_THREADS) unless --solver-threads lists others, the first the baseline", () => {
    expect(parseAccuracyArgs([], rules, "/repo", {}).solverThreads).toEqual([os.availableParallelism()])
    expect(parseAccuracyArgs([], rules, "/repo", { DEEPSPARK_CPU_THREADS: "3" }).solverThreads).toEqual([3])
    expect(parseAccuracyArgs(["--solver-threads=2,1,2"], rules, "/repo", {}).solverThreads).toEqual([2, 1])
    expect(() => parseAccuracyArgs(["--solver-threads=0"], rules, "/repo", {})).toThrow(/--solver-threads must be a positive integer/)
    // Not an EASGD setting: no rule gets it.
    expect(parseAccuracyArgs(["--rules=downpour", "--solver-threads=1"], rules, "/repo", {}).variants).toEqual([{ rule: "downpour", settings: {} }])
  })

  it("takes the rules from src/easgd's exported names, so a new rule joins the table", () => {
    expect(parseAccuracyArgs([], ruleNames, "/repo").variants.map((v) => v.rule)).toEqual(ruleNames.filter((r) => r !== "single"))
  })

  it("passes other flags to the settings, for every rule or one (`--rule.name`), and runs each listed value", () => {
    const o = parseAccuracyArgs(["--rules=async-easgd,downpour", "--period=5,10", "--moving-rate=0.2", "--downpour.period=20"], rules, "/repo")
    expect(o.variants).toEqual([
      { rule: "async-easgd", settings: { period: "5", moving_rate: "0.2" } },
      { rule: "async-easgd", settings: { period: "10", moving_rate: "0.2" } },
      { rule: "downpour", settings: { period: "20" } } // downpour reads no moving_rate
    ])
    expect(combinations({ a: ["1", "2"], b: ["x"], c: ["y", "z"] })).toHaveLength(4)
    expect(settingsLabel("downpour", { period: "20", staleness_aware: "true" })).toBe("period=20 staleness_aware=true")
    expect(settingsLabel("diloco", { outer_lr: "0.5" })).toBe(`period=${makeEasgdSettings({ rule: "diloco" }).period} outer_lr=0.5`)
  })

  it("gives a setting for every rule only to the rules that read it (the rule objects say which), or to all when no rule claims it", () => {
    expect(globalSettingApplies("async-easgd", "moving_rate")).toBe(true)
    expect(globalSettingApplies("diloco", "moving_rate")).toBe(false)
    expect(globalSettingApplies("diloco", "outer_lr")).toBe(true)
    expect(globalSettingApplies("async-easgd", "outer_lr")).toBe(false)
    for (const general of ["period", "adaptive_period", "lr_scaling", "lr_warmup"]) expect(globalSettingApplies("sync-avg", general)).toBe(true)
    const o = parseAccuracyArgs(["--rules=async-easgd,diloco", "--moving-rate=0.2", "--outer-lr=0.5,0.7"], ruleNames, "/repo")
    expect(o.variants).toEqual([
      { rule: "async-easgd", settings: { moving_rate: "0.2" } },
      { rule: "diloco", settings: { outer_lr: "0.5" } },
      { rule: "diloco", settings: { outer_lr: "0.7" } }
    ])
  })

  it("quick mode: one seed, two workers, the default rule and at most one other, a lower cap; flags beside it win", () => {
    const q = parseAccuracyArgs(["--quick"], ruleNames, "/repo")
    expect(q.seeds).toHaveLength(1)
    expect(q.workers).toEqual([2])
    expect(q.capSeconds).toBe(120)
    expect(q.variants.length).toBeGreaterThanOrEqual(1)
    expect(q.variants.length).toBeLessThanOrEqual(2)
    expect(parseAccuracyArgs(["--quick", "--workers=4", "--cap-s=30"], ruleNames, "/repo")).toMatchObject({ workers: [4], capSeconds: 30 })
  })

  it("names the flag of a bad value", () => {
    const parse = (...a: string[]) => () => parseAccuracyArgs(a, rules, "/repo")
    expect(parse("--targets=0.9,99")).toThrow(/--targets.*"99"/)
    expect(parse("--workers=1.5")).toThrow(/--workers must be a positive integer/)
    expect(parse("--rules=nope")).toThrow(/unknown rule "nope" in --rules \(available: async-easgd/)
    expect(parse("--nope.period=3")).toThrow(/--nope.period: unknown rule "nope"/)
    expect(parse("--period=0")).toThrow(/rule async-easgd with --period=0: .*period/)
    expect(parse("--not-a-setting=1")).toThrow(/not_a_setting/)
    expect(parse("--period")).toThrow(/--period needs a value/)
    expect(parse("--cap-s=0")).toThrow(/--cap-s/)
  })
})

const record = (rule: string, workers: number, seed: number, tests: Array<[number, number, number]>, extra: Partial<RunRecord> = {}): RunRecord => ({
  kind: "accuracy-run",
  invocation: "i",
  date: "2026-12-06T12:00:00.000Z",
  setup: { dataset: "mnist", testInterval: 250, backend: "cpu" },
  rule,
  settings: rule === "single" ? {} : { period: "10" },
  settingsLabel: rule === "single" ? "—" : "period=10",
  workers,
  seed,
  batch: 64,
  tests: tests.map(([seconds, iteration, accuracy]) => ({ seconds, iteration, accuracy, testSeconds: 2, cpuSeconds: seconds })),
  wallSeconds: 100,
  cpuSeconds: 150,
  capSeconds: 420,
  stoppedBy: "target",
  cores: 2,
  loadStart: [1, 1, 1],
  loadEnd: [1.5, 1, 1],
  ...extra
})

describe("cells and the README table", () => {
  const records = [
    record("single", 1, 1, [[50, 1750, 0.985], [150, 5000, 0.99]]),
    record("single", 1, 2, [[60, 2000, 0.985], [180, 6000, 0.99]]),
    record("single", 1, 3, [[55, 1750, 0.986], [170, 5500, 0.9901]]),
    record("downpour", 2, 1, [[30, 750, 0.986], [90, 2500, 0.99]]),
    record("downpour", 2, 2, [[33, 1000, 0.986], [300, 2000, 0.989]], { stoppedBy: "cap" }),
    record("downpour", 2, 3, [[36, 1000, 0.985], [95, 2750, 0.992]]),
    record("downpour", 4, 1, [], { stoppedBy: "failed", error: "loss is NaN" })
  ]

  it("takes per-cell medians over seeds, a missed target counting as ∞, and keeps failed runs apart", () => {
    const cells = buildCells([...records].reverse(), [0.985, 0.99])
    expect(cells.map((c) => `${c.rule}×${c.workers}`)).toEqual(["single×1", "downpour×2", "downpour×4"])
    const [single, two, four] = cells as [NonNullable<(typeof cells)[0]>, NonNullable<(typeof cells)[0]>, NonNullable<(typeof cells)[0]>]
    expect(single.targets[0]).toEqual({ target: 0.985, measuredBy: 3, reachedBy: 3, seconds: 55, iterations: 1750, samples: 1750 * 64 })
    expect(single.targets[1]).toMatchObject({ seconds: 170, iterations: 5500 })
    expect(two.targets[0]).toEqual({ target: 0.985, measuredBy: 3, reachedBy: 3, seconds: 33, iterations: 1000, samples: 1000 * 64 * 2 })
    // seed 2 missed 99 %: the median of 90, 95, ∞ is 95
    expect(two.targets[1]).toEqual({ target: 0.99, measuredBy: 3, reachedBy: 2, seconds: 95, iterations: 2750, samples: 2750 * 64 * 2 })
    expect(two.bestAccuracy).toBe(0.99)
    expect(two.firstTestSeconds).toBe(33)
    expect(four.failed).toBe(1)
    expect(four.targets[0]!.seconds).toBeUndefined()
  })

  it("prints a markdown table with medians, ratios to the lone solver of the same records, and samples", () => {
    const lines = formatMarkdownTable(buildCells(records, [0.985, 0.99]), [0.985, 0.99])
    expect(lines[0]).toBe(
      "| rule | settings | N | runs | 98.5 % wall | × solver | it / worker | × solver | samples | 99.0 % wall | × solver | it / worker | × solver | samples | best acc. | 1st test |"
    )
    expect(lines[1]).toBe("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    expect(lines[2]).toBe("| single (one solver) | threads=1 | 1 | 3 | 55 s | 1 | 1,750 | 1 | 112,000 | 170 s | 1 | 5,500 | 1 | 352,000 | 0.9900 | 55 s |")
    expect(lines[3]).toBe("| downpour | period=10 | 2 | 3 | 33 s | 0.60× | 1,000 | 0.57× | 128,000 | 95 s (2/3) | 0.56× | 2,750 | 0.50× | 352,000 | 0.9900 | 33 s |")
    expect(lines[4]).toBe("| downpour | period=10 | 4 | 0 (+1 failed) | not measured | — | — | — | — | not measured | — | — | — | — | — | — |")
  })

  it("counts a run only for the targets it aimed at (or reached): runs stopped at 98.5 % leave 99 % not measured", () => {
    const aimedLow = { targets: [0.985] }
    const cells = buildCells(
      [
        ...records.slice(0, 3),
        record("downpour", 8, 1, [[80, 400, 0.986]], aimedLow),
        record("downpour", 8, 2, [[90, 500, 0.991]], aimedLow), // reached 99 % before stopping: counts there
        record("downpour", 8, 3, [[420, 900, 0.98]], { ...aimedLow, stoppedBy: "cap" })
      ],
      [0.985, 0.99]
    )
    const eight = cells.find((c) => c.workers === 8)!
    expect(eight.targets[0]).toMatchObject({ measuredBy: 3, reachedBy: 2, iterations: 500 })
    expect(eight.targets[1]).toMatchObject({ measuredBy: 1, reachedBy: 1, iterations: 500 })
    const only = buildCells([records[0]!, record("downpour", 8, 1, [[80, 400, 0.986]], aimedLow)], [0.985, 0.99])
    expect(formatMarkdownTable(only, [0.985, 0.99])[3]).toMatch(/\| 8 \| 1 \| 80 s \| 1\.60× \| 400 \| 0\.23× \| 204,800 \| not measured \| — \|/)
  })

  it("checks the speed-up targets per rule: wall-time ratios with N = 2, per-worker-iteration ratios with N = 2, 4, 8", () => {
    const lines = formatTargetChecks(buildCells(records, [0.985, 0.99]))
    expect(lines).toEqual([
      "downpour (period=10): N=2 98.5 % wall 0.60× (≤ 0.6: met), 99.0 % wall 0.56× (≤ 0.7: met); " +
        "it/worker to 98.5 %: N=2 0.57× (≤ 0.6: met), N=4 — (≤ 0.35: missed, every run failed), N=8 — (≤ 0.2: not run)"
    ])
    expect(formatTargetChecks(buildCells(records.slice(3), [0.985]))).toEqual(["target check: no lone-solver run in these records"])
    expect(formatTargetChecks(buildCells(records, [0.9]))[0]).toMatch(/N=2 98\.5 % wall — \(≤ 0\.6: not measured\)/)
    const solverMissed = [record("single", 1, 1, [[50, 1750, 0.97]]), record("downpour", 2, 1, [[30, 750, 0.986]])]
    expect(formatTargetChecks(buildCells(solverMissed, [0.985, 0.99]))[0]).toMatch(/^downpour \(period=10\): N=2 98\.5 % wall — \(≤ 0\.6: the lone solver did not reach the target\), 99\.0 % wall — \(≤ 0\.7: missed, target not reached\)/)
  })

  it("ratios are to the lone solver named as the baseline; its other thread counts get rows of their own; records from before the flag ran one thread", () => {
    const threaded = (seed: number, tests: Array<[number, number, number]>) => record("single", 1, seed, tests, { settings: { threads: "2" }, settingsLabel: "threads=2" })
    const both = [...records, threaded(1, [[40, 1750, 0.985]]), threaded(2, [[44, 2000, 0.985]]), threaded(3, [[42, 1750, 0.986]])]
    const cells = buildCells(both, [0.985, 0.99], "threads=2")
    expect(cells.map((c) => `${c.rule} ${c.settingsLabel} ×${c.workers}`)).toEqual(["single threads=2 ×1", "single threads=1 ×1", "downpour period=10 ×2", "downpour period=10 ×4"])
    const lines = formatMarkdownTable(cells, [0.985])
    expect(lines[2]).toMatch(/^\| single \(one solver\) \| threads=2 \| 1 \| 3 \| 42 s \| 1 \| 1,750 \| 1 \|/)
    expect(lines[3]).toMatch(/^\| single \(one solver\) \| threads=1 \| 1 \| 3 \| 55 s \| 1\.31× \| 1,750 \| 1\.00× \|/)
    expect(lines[4]).toMatch(/^\| downpour \| period=10 \| 2 \| 3 \| 33 s \| 0\.79× \| 1,000 \| 0\.57× \|/)
    expect(formatTargetChecks(cells)[0]).toMatch(/^downpour \(period=10\): N=2 98\.5 % wall 0\.79× \(≤ 0\.6: missed\)/)
    expect(formatTargetChecks(cells)).toHaveLength(1)
    // The one-thread solver as the baseline: the earlier ratios.
    expect(formatMarkdownTable(buildCells(both, [0.985], "threads=1"), [0.985])[4]).toMatch(/\| 33 s \| 0\.60× \|/)
  })

  it("reads results.jsonl records back, skipping other lines, and names the line of a broken one", () => {
    const text = [JSON.stringify(records[0]), JSON.stringify({ date: "old format", runs: [] }), "", JSON.stringify(records[3])].join("\n")
    expect(readRunRecords(text, "r.jsonl").map((r) => r.rule)).toEqual(["single", "downpour"])
    expect(() => readRunRecords(`${JSON.stringify(records[0])}\n{oops`, "r.jsonl")).toThrow(/r\.jsonl:2: not a JSON line/)
  })
})
