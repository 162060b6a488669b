import { firstReaching, type TestPoint } from "./accuracy-tracker.js"
import { median } from "./median.js"
import type { RunRecord } from "./run-record.js"

/** One target in one cell: medians over the cell's seeds; a seed that missed the target counts as ∞. */
export interface TargetStats {
  readonly target: number
  /** How many of the cell's runs aimed at it (or reached it anyway); the medians are over these. */
  readonly measuredBy: number
  /** How many of them reached it. */
  readonly reachedBy: number
  readonly seconds: number | undefined
  /** Per-worker iterations (the center's tests count exchanges·τ/N). */
  readonly iterations: number | undefined
  /** Per-worker iterations × batch × workers. */
  readonly samples: number | undefined
}

/** A rule × settings × workers cell over its seeds. */
export interface Cell {
  readonly rule: string
  readonly settingsLabel: string
  readonly workers: number
  readonly seeds: ReadonlyArray<number>
  readonly targets: ReadonlyArray<TargetStats>
  /** Median over seeds of each run's best (non-diverged) test accuracy. */
  readonly bestAccuracy: number | undefined
  /** Median wall seconds from a run's start to its first test result (start-up + first interval). */
  readonly firstTestSeconds: number | undefined
  readonly failed: number
  readonly runs: ReadonlyArray<RunRecord>
}

const finiteOr = (v: number | undefined): number | undefined => (v === undefined || !Number.isFinite(v) ? undefined : v)

const cellOf = (runs: ReadonlyArray<RunRecord>, targets: ReadonlyArray<number>): Cell => {
  const first = runs[0]!
  const ok = runs.filter((r) => r.stoppedBy !== "failed")
  const reached = ok.map((r) => firstReaching(r.tests, targets))
  return {
    rule: first.rule,
    settingsLabel: first.settingsLabel,
    workers: first.workers,
    seeds: runs.map((r) => r.seed),
    targets: targets.map((target) => {
      // Runs that aimed at this target, or reached it before stopping at a lower one.
      const measured = ok.flatMap((r, i) => {
        const p = reached[i]!.get(target)
        return p !== undefined || r.targets === undefined || r.targets.includes(target) ? [{ r, p }] : []
      })
      const of = (f: (r: RunRecord, p: TestPoint) => number) =>
        measured.length === 0 ? undefined : finiteOr(median(measured.map(({ r, p }) => (p ? f(r, p) : Infinity))))
      return {
        target,
        measuredBy: measured.length,
        reachedBy: measured.filter(({ p }) => p !== undefined).length,
        seconds: of((_, p) => p.seconds),
        iterations: of((_, p) => p.iteration),
        samples: of((r, p) => p.iteration * r.batch * r.workers)
      }
    }),
    bestAccuracy: median(ok.flatMap((r) => {
      const accs = r.tests.filter((p) => !p.diverged).map((p) => p.accuracy)
      return accs.length > 0 ? [Math.max(...accs)] : []
    })),
    firstTestSeconds: median(ok.flatMap((r) => (r.tests.length > 0 ? [r.tests[0]!.seconds] : []))),
    failed: runs.length - ok.length,
    runs
  }
}

/**
 * Groups records into cells (rule, settings, workers), the lone solver's first, then in the order the
 * rules first appear, by settings and workers. Records of another setup must be filtered out first.
 */
export const buildCells = (records: ReadonlyArray<RunRecord>, targets: ReadonlyArray<number>): Cell[] => {
  const groups = new Map<string, RunRecord[]>()
  const ruleOrder: string[] = []
  for (const r of records) {
    const key = JSON.stringify([r.rule, r.settingsLabel, r.workers])
    const g = groups.get(key)
    if (g) g.push(r)
    else groups.set(key, [r])
    if (!ruleOrder.includes(r.rule)) ruleOrder.push(r.rule)
  }
  const rank = (rule: string) => (rule === "single" ? -1 : ruleOrder.indexOf(rule))
  return [...groups.values()]
    .map((runs) => cellOf(runs, targets))
    .sort((a, b) => rank(a.rule) - rank(b.rule) || a.settingsLabel.localeCompare(b.settingsLabel) || a.workers - b.workers)
}

/** cell / baseline for a median, when both are known. */
export const ratio = (value: number | undefined, baseline: number | undefined): number | undefined =>
  value === undefined || baseline === undefined || baseline === 0 ? undefined : value / baseline
