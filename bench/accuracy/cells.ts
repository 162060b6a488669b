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

/** The lone solver's label for tables: its GEMM threads. */
export const solverLabel = (threads: number): string => `threads=${threads}`

/** A record's label; the lone solver's records from before `--solver-threads` (label "—") ran one GEMM thread. */
const labelOf = (r: RunRecord): string => (r.rule === "single" && r.settingsLabel === "—" ? solverLabel(1) : r.settingsLabel)

const cellOf = (runs: ReadonlyArray<RunRecord>, targets: ReadonlyArray<number>): Cell => {
  const first = runs[0]!
  const ok = runs.filter((r) => r.stoppedBy !== "failed")
  const reached = ok.map((r) => firstReaching(r.tests, targets))
  return {
    rule: first.rule,
    settingsLabel: labelOf(first),
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
 * Groups records into cells (rule, settings, workers), the lone solver's first (the baseline, named by
 * its label, before its other thread counts), then in the order the rules first appear, by settings and
 * workers. Records of another setup must be filtered out first.
 */
export const buildCells = (records: ReadonlyArray<RunRecord>, targets: ReadonlyArray<number>, baselineLabel?: string): Cell[] => {
  const groups = new Map<string, RunRecord[]>()
  const ruleOrder: string[] = []
  for (const r of records) {
    const key = JSON.stringify([r.rule, labelOf(r), r.workers])
    const g = groups.get(key)
    if (g) g.push(r)
    else groups.set(key, [r])
    if (!ruleOrder.includes(r.rule)) ruleOrder.push(r.rule)
  }
  const rank = (c: Cell) => (c.rule === "single" ? (c.settingsLabel === baselineLabel ? -2 : -1) : ruleOrder.indexOf(c.rule))
  return [...groups.values()]
    .map((runs) => cellOf(runs, targets))
    .sort((a, b) => rank(a) - rank(b) || a.settingsLabel.localeCompare(b.settingsLabel, "en", { numeric: true }) || a.workers - b.workers)
}

/** The lone solver the ratios are to: the first single-solver cell (buildCells puts the one named first). */
export const baselineOf = (cells: ReadonlyArray<Cell>): Cell | undefined => cells.find((c) => c.rule === "single" && c.workers === 1)

/** cell / baseline for a median, when both are known. */
export const ratio = (value: number | undefined, baseline: number | undefined): number | undefined =>
  value === undefined || baseline === undefined || baseline === 0 ? undefined : value / baseline
