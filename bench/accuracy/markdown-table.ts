import { baselineOf, ratio, type Cell } from "./cells.js"

const pct = (t: number) => `${(t * 100).toFixed(1)} %`
const thousands = (n: number) => Math.round(n).toLocaleString("en-US")
const times = (r: number | undefined) => (r === undefined ? "—" : `${r.toFixed(2)}×`)

/**
 * The README table: one row per cell (the lone solver first: the baseline, then its other thread counts), for each target the median wall time,
 * per-worker iterations and samples (iterations × batch × N) with the wall-time and per-worker-iteration
 * ratios to the lone solver of the same records (< 1: fewer than the solver), then the best accuracy.
 * A target that fewer than all seeds reached says how many did ("2/3"); one whose median is beyond the
 * cap is "not reached"; one that no run of the cell aimed at (runs stopped at a lower target) "not measured".
 */
export const formatMarkdownTable = (cells: ReadonlyArray<Cell>, targets: ReadonlyArray<number>): string[] => {
  const baseline = baselineOf(cells)
  const header = ["rule", "settings", "N", "runs"]
  for (const t of targets) header.push(`${pct(t)} wall`, "× solver", "it / worker", "× solver", "samples")
  header.push("best acc.", "1st test")
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((h, i) => (i < 2 ? "---" : "---:")).join("|")}|`]
  for (const c of cells) {
    const row = [c.rule === "single" ? "single (one solver)" : c.rule, c.settingsLabel, String(c.workers), String(c.seeds.length - c.failed) + (c.failed ? ` (+${c.failed} failed)` : "")]
    for (const [i, t] of c.targets.entries()) {
      const b = baseline?.targets[i]
      const partial = t.reachedBy < t.measuredBy ? ` (${t.reachedBy}/${t.measuredBy})` : ""
      if (t.seconds === undefined) {
        row.push(t.measuredBy === 0 ? "not measured" : t.reachedBy > 0 ? `not reached${partial}` : "not reached", "—", "—", "—", "—")
        continue
      }
      const isBaseline = c === baseline
      row.push(
        `${t.seconds.toFixed(0)} s${partial}`,
        isBaseline ? "1" : times(ratio(t.seconds, b?.seconds)),
        t.iterations === undefined ? "—" : thousands(t.iterations),
        isBaseline ? "1" : times(ratio(t.iterations, b?.iterations)),
        t.samples === undefined ? "—" : thousands(t.samples)
      )
    }
    row.push(c.bestAccuracy === undefined ? "—" : c.bestAccuracy.toFixed(4), c.firstTestSeconds === undefined ? "—" : `${c.firstTestSeconds.toFixed(0)} s`)
    lines.push(`| ${row.join(" | ")} |`)
  }
  return lines
}
