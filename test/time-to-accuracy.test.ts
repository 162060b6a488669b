/**
 * The pure parts of `npm run bench -- accuracy` (bench/time-to-accuracy.ts): reading Caffe's test lines
 * into time-to-target records, the flags, and the summary table. The end-to-end run on MNIST is in
 * test/long/time-to-accuracy.test.ts.
 */
import { describe, expect, it } from "vitest"
import { AccuracyTracker, formatTable, parseTimeToAccuracyArgs, type RunResult } from "../bench/time-to-accuracy.js"

const glog = (msg: string) => `I1126 11:51:16.547768 18787 solver.ts:261] ${msg}`

describe("AccuracyTracker", () => {
  it("records the first test of net #0 at or above each target, with its iteration, wall time, test time and CPU", () => {
    let now = 0
    let cpu = 0
    let doneCalls = 0
    const t = new AccuracyTracker([0.985, 0.99], () => now, () => cpu, () => doneCalls++)
    const test = (iteration: number, accuracy: string, start: number, end: number) => {
      now = start
      t.onLine(glog(`Iteration ${iteration}, Testing net (#0)`))
      now = end
      cpu = end * 1.5
      t.onLine(glog(`    Test net output #0: accuracy = ${accuracy}`))
      t.onLine(glog(`    Test net output #1: loss = 0.04 (* 1 = 0.04 loss)`))
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
    expect(doneCalls).toBe(1)
    test(2500, "0.9911", 200, 203)
    expect(doneCalls).toBe(1)
    expect(t.tests.map((p) => p.accuracy)).toEqual([0.9731, 0.985, 0.9849, 0.9901, 0.9911])
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
})

describe("parseTimeToAccuracyArgs", () => {
  it("has the measured-best defaults and reads = flags beside suite names", () => {
    const d = parseTimeToAccuracyArgs(["accuracy"])
    expect(d).toMatchObject({ workers: 2, rule: "async-easgd", period: 10, movingRate: 0.2, targets: [0.985, 0.99], capSeconds: 900, testInterval: 500, only: undefined })
    const o = parseTimeToAccuracyArgs(["accuracy", "--targets=0.99,0.9", "--cap-s=60", "--workers=4", "--period", "50", "--only=dist"])
    expect(o).toMatchObject({ workers: 4, period: 50, targets: [0.9, 0.99], capSeconds: 60, only: "dist" })
  })

  it("names the flag of a bad value", () => {
    expect(() => parseTimeToAccuracyArgs(["--targets=0.9,99"])).toThrow(/--targets.*"99"/)
    expect(() => parseTimeToAccuracyArgs(["--workers=1.5"])).toThrow(/--workers must be a positive integer/)
    expect(() => parseTimeToAccuracyArgs(["--only=both"])).toThrow(/--only/)
    expect(() => parseTimeToAccuracyArgs(["--cap=5"])).toThrow(/cap/)
  })
})

describe("formatTable", () => {
  const run = (workers: number, reached: Array<[number, number, number]>): RunResult => {
    const points = reached.map(([target, seconds, iteration]) => [target, { seconds, iteration, accuracy: target, testSeconds: 2, cpuSeconds: seconds * workers }] as const)
    return {
      label: `${workers}`,
      workers,
      rule: workers === 1 ? "single" : "async-easgd τ 10 α 0.2",
      tests: points.map(([, p]) => p),
      reached: new Map(points),
      wallSeconds: 100,
      cpuSeconds: 150,
      stoppedBy: "target",
      loadStart: [1, 1, 1],
      loadEnd: [1, 1, 1]
    }
  }

  it("prints both rows, iterations per worker × workers, and the 1-worker / N-worker time ratios", () => {
    const lines = formatTable([run(1, [[0.985, 200, 2000], [0.99, 400, 4000]]), run(2, [[0.985, 100, 1000]])], [0.985, 0.99]).join("\n")
    expect(lines).toMatch(/single +\| +1 \| +200\.0 s +it +2000 +CPU +200 s/)
    expect(lines).toMatch(/\| +2 \| +100\.0 s +it +1000×2 +CPU +200 s +\| not reached \(best 0\.9850\)/)
    expect(lines).toMatch(/98\.5 %: 2\.00×, 99\.0 %: —/)
  })
})
