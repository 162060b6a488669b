import { baselineOf, ratio, type Cell, type TargetStats } from "./cells.js"

/**
 * The speed-up targets the project set itself (same run, 2 cores), as ratios to the lone solver's medians:
 * wall time with N = 2 to 98.5 % and 99 %, and per-worker iterations to 98.5 % with N = 2, 4, 8.
 */
export const speedUpTargets = {
  wallN2: [
    { target: 0.985, atMost: 0.6 },
    { target: 0.99, atMost: 0.7 }
  ],
  iterations985: [
    { workers: 2, atMost: 0.6 },
    { workers: 4, atMost: 0.35 },
    { workers: 8, atMost: 0.2 }
  ]
} as const

/** A target's ratio and whether it is met; says why there is no ratio (not run, not measured, not reached, the solver missed it). */
const verdict = (cell: Cell | undefined, stats: TargetStats | undefined, pick: (t: TargetStats) => number | undefined, baseline: TargetStats | undefined, atMost: number) => {
  if (cell === undefined) return `— (≤ ${atMost}: not run)`
  if (stats === undefined || stats.measuredBy === 0) return cell.failed > 0 && cell.failed === cell.runs.length ? `— (≤ ${atMost}: missed, every run failed)` : `— (≤ ${atMost}: not measured)`
  const value = pick(stats)
  if (value === undefined) return `— (≤ ${atMost}: missed, target not reached)`
  const r = ratio(value, baseline && pick(baseline))
  if (r === undefined) return `— (≤ ${atMost}: the lone solver did not reach the target)`
  return `${r.toFixed(2)}× (≤ ${atMost}: ${r <= atMost ? "met" : "missed"})`
}

/** One line per rule × settings: each target's ratio and whether it is met; cells a rule lacks say so. */
export const formatTargetChecks = (cells: ReadonlyArray<Cell>): string[] => {
  const baseline = baselineOf(cells)
  if (!baseline) return ["target check: no lone-solver run in these records"]
  const stat = (c: Cell | undefined, target: number) => c?.targets.find((t) => t.target === target)
  const base = (target: number) => stat(baseline, target)
  const lines: string[] = []
  const groups = new Map<string, Cell[]>()
  for (const c of cells) if (c.rule !== "single") groups.set(`${c.rule} (${c.settingsLabel})`, [...(groups.get(`${c.rule} (${c.settingsLabel})`) ?? []), c])
  for (const [name, group] of groups) {
    const at = (n: number) => group.find((c) => c.workers === n)
    const wall = speedUpTargets.wallN2.map((t) => `${(t.target * 100).toFixed(1)} % wall ${verdict(at(2), stat(at(2), t.target), (x) => x.seconds, base(t.target), t.atMost)}`)
    const iters = speedUpTargets.iterations985.map((t) => `N=${t.workers} ${verdict(at(t.workers), stat(at(t.workers), 0.985), (x) => x.iterations, base(0.985), t.atMost)}`)
    lines.push(`${name}: N=2 ${wall.join(", ")}; it/worker to 98.5 %: ${iters.join(", ")}`)
  }
  return lines
}
