/**
 * `npm run bench -- accuracy [--flag=value ...]`: time to 98.5 % and 99 % MNIST test accuracy with one
 * solver vs N workers (async EASGD), measured one after the other in the same run on this machine.
 *
 * (a) Caffe's stock LeNet solver (examples/mnist/lenet_solver.prototxt, one solver, as
 *     `deepspark train -solver …` runs it) and (b) the same solver with `--workers N` (async EASGD, τ and
 *     α as flags), both on real MNIST converted by the project's `data mnist` code into Caffe LMDBs
 *     (once, under out/bench-accuracy/workspace). Each run stops as soon as its highest target is
 *     reached, or at the wall-time cap.
 *
 * How time is counted (the same for both runs): wall seconds from the start of the run — net set-up,
 * worker threads and placement checks included — to the moment a test result at or above the target is
 * known, i.e. the end of that test. Both runs test on the full 10,000-image test set every
 * `test-interval` per-worker iterations and not at iteration 0. The single solver tests inline, as Caffe
 * does (training pauses, so its wall time includes every earlier test); the distributed center is tested
 * on a copy of x̃ by the evaluator thread while the workers keep training, on the same cores. Test results
 * are read from the Caffe test lines each run logs (`Iteration N, Testing net (#0)` …
 * `Test net output #k: accuracy = v`), the single solver's and the center evaluator's alike.
 * CPU time is the whole process's (every thread: workers, evaluator), from process.cpuUsage.
 *
 * Flags (`=` form when run through bench/main.ts, which takes bare words for suite names):
 *   --workers=2  --rule=async-easgd  --period=10  --moving-rate=0.2   the distributed run
 *   --targets=0.985,0.99      accuracies to time; a run stops once it reaches the highest
 *   --cap-s=900               wall-time cap per run (seconds)
 *   --test-interval=500       test every this many per-worker iterations (Caffe's stock value)
 *   --only=single|dist        run one side only
 *   --backend=cpu
 * Caffe logs go to out/bench-accuracy/{single,dist}.log; each result is appended to
 * out/bench-accuracy/results.jsonl.
 */
import { chooseBackend, createTrainingSession, GlogLogger } from "@deepspark/engine"
import { convertMnist, mnistPackageFiles } from "@deepspark/data"
import { Deferred, Duration, Effect, Exit, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { Center } from "../src/center/center-service.js"
import { runDistributedTrain } from "../src/driver/distributed-train.js"
import { LocalWorkerPool, WorkerPool } from "../src/driver/worker-pool.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export interface TimeToAccuracyOptions {
  readonly workers: number
  readonly rule: string
  readonly period: number
  readonly movingRate: number
  /** Ascending; a run stops at the last. */
  readonly targets: ReadonlyArray<number>
  readonly capSeconds: number
  readonly testInterval: number
  readonly only: "single" | "dist" | undefined
  readonly backend: string
  readonly outDir: string
}

const positive = (flag: string, raw: string, integer: boolean): number => {
  const v = Number(raw)
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new Error(`bench accuracy: --${flag} must be a positive ${integer ? "integer" : "number"} (got ${JSON.stringify(raw)})`)
  return v
}

/** Reads the flags above; bare words (suite names) are ignored. */
export const parseTimeToAccuracyArgs = (argv: ReadonlyArray<string>): TimeToAccuracyOptions => {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      workers: { type: "string", default: "2" },
      rule: { type: "string", default: "async-easgd" },
      period: { type: "string", default: "10" },
      "moving-rate": { type: "string", default: "0.2" },
      targets: { type: "string", default: "0.985,0.99" },
      "cap-s": { type: "string", default: "900" },
      "test-interval": { type: "string", default: "500" },
      only: { type: "string" },
      backend: { type: "string", default: "cpu" },
      out: { type: "string", default: path.join(repoRoot, "out/bench-accuracy") }
    }
  })
  const targets = values.targets!.split(",").map((t) => {
    const v = Number(t)
    if (!(v > 0 && v <= 1)) throw new Error(`bench accuracy: --targets must be accuracies in (0, 1] (got ${JSON.stringify(t)})`)
    return v
  })
  if (values.only !== undefined && values.only !== "single" && values.only !== "dist")
    throw new Error(`bench accuracy: --only must be single or dist (got ${JSON.stringify(values.only)})`)
  const movingRate = Number(values["moving-rate"])
  if (!(movingRate > 0 && movingRate <= 1)) throw new Error(`bench accuracy: --moving-rate must be in (0, 1] (got ${JSON.stringify(values["moving-rate"])})`)
  return {
    workers: positive("workers", values.workers!, true),
    rule: values.rule!,
    period: positive("period", values.period!, true),
    movingRate,
    targets: [...new Set(targets)].sort((a, b) => a - b),
    capSeconds: positive("cap-s", values["cap-s"]!, false),
    testInterval: positive("test-interval", values["test-interval"]!, true),
    only: values.only as "single" | "dist" | undefined,
    backend: values.backend!,
    outDir: path.resolve(values.out!)
  }
}

export interface TestPoint {
  /** Wall seconds since the run started, when the result was known. */
  readonly seconds: number
  /** The solver's iteration (per worker, for the center: exchanges·τ/N). */
  readonly iteration: number
  readonly accuracy: number
  /** How long the test itself took. */
  readonly testSeconds: number
  readonly cpuSeconds: number
}

/**
 * Follows Caffe's test lines as a run logs them and records, for each target, the first test of net #0
 * whose accuracy output reached it. Lines of other test nets and outputs are ignored.
 */
export class AccuracyTracker {
  readonly tests: TestPoint[] = []
  readonly reached = new Map<number, TestPoint>()
  private current: { iteration: number; net: number; startedAt: number } | undefined

  constructor(
    readonly targets: ReadonlyArray<number>,
    private readonly clock: () => number,
    private readonly cpu: () => number,
    private readonly onDone: () => void = () => {}
  ) {}

  get done(): boolean {
    return this.targets.every((t) => this.reached.has(t))
  }

  onLine(line: string): void {
    const start = /Iteration (\d+), Testing net \(#(\d+)\)/.exec(line)
    if (start) {
      this.current = { iteration: Number(start[1]), net: Number(start[2]), startedAt: this.clock() }
      return
    }
    const out = /Test net output #\d+: (\S+) = (\S+)/.exec(line)
    if (!out || !this.current || this.current.net !== 0 || !/accuracy/i.test(out[1]!)) return
    const accuracy = Number(out[2])
    if (!Number.isFinite(accuracy)) return
    const now = this.clock()
    const point: TestPoint = { seconds: now, iteration: this.current.iteration, accuracy, testSeconds: now - this.current.startedAt, cpuSeconds: this.cpu() }
    this.current = undefined
    this.tests.push(point)
    const wasDone = this.done
    for (const t of this.targets) if (accuracy >= t && !this.reached.has(t)) this.reached.set(t, point)
    if (!wasDone && this.done) this.onDone()
  }
}

export interface RunResult {
  readonly label: string
  readonly workers: number
  readonly rule: string
  readonly tests: ReadonlyArray<TestPoint>
  readonly reached: ReadonlyMap<number, TestPoint>
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly stoppedBy: "target" | "cap" | "max_iter"
  readonly loadStart: ReadonlyArray<number>
  readonly loadEnd: ReadonlyArray<number>
}

/** The MNIST LMDBs (converted once; a crash mid-conversion leaves no half database) and Caffe's prototxts. */
const prepareWorkspace = async (outDir: string, testInterval: number): Promise<{ dir: string; solver: string }> => {
  const dir = path.join(outDir, "workspace")
  const mnist = path.join(dir, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt"]) fs.copyFileSync(path.join(repoRoot, "examples/mnist", f), path.join(mnist, f))
  const files = mnistPackageFiles()
  for (const [db, images, labels] of [
    ["mnist_train_lmdb", files.trainImages, files.trainLabels],
    ["mnist_test_lmdb", files.testImages, files.testLabels]
  ] as const) {
    const target = path.join(mnist, db)
    if (fs.existsSync(path.join(target, "data.mdb"))) continue
    const building = `${target}.building`
    fs.rmSync(building, { recursive: true, force: true })
    const t0 = Date.now()
    const r = await convertMnist(images, labels, building)
    fs.renameSync(building, target)
    console.log(`converted ${path.basename(images)} → ${path.relative(repoRoot, target)}: ${r.count} records (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  }
  // Caffe's stock solver with only testing and snapshots changed (written beside it, same net).
  let text = fs.readFileSync(path.join(mnist, "lenet_solver.prototxt"), "utf8")
  const set = (key: string, value: string | number) => {
    const re = new RegExp(`^${key}:.*$`, "m")
    const line = `${key}: ${value}`
    text = re.test(text) ? text.replace(re, line) : `${text.trimEnd()}\n${line}\n`
  }
  set("test_interval", testInterval)
  set("test_initialization", "false") // the center is not tested at exchange 0 either
  set("snapshot", 0)
  set("snapshot_after_train", "false")
  const solver = "examples/mnist/lenet_solver_time_to_accuracy.prototxt"
  fs.writeFileSync(path.join(dir, solver), text)
  return { dir, solver }
}

const openLog = (file: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const fd = fs.openSync(file, "w")
  return { write: (line: string) => fs.writeSync(fd, line + "\n"), close: () => fs.closeSync(fd) }
}

const cpuSince = (start: NodeJS.CpuUsage) => () => {
  const u = process.cpuUsage(start)
  return (u.user + u.system) / 1e6
}

const progress = (label: string) => (p: TestPoint) =>
  console.log(`  [${label}] ${p.seconds.toFixed(1).padStart(6)} s  iteration ${String(p.iteration).padStart(5)}: accuracy ${p.accuracy.toFixed(4)} (test ${p.testSeconds.toFixed(1)} s)`)

/** A run's clocks, started now; `follow` feeds the tracker a log line and prints the test it completed; `result` ends the run. */
const startRun = (label: string) => {
  const loadStart = os.loadavg()
  const t0 = performance.now()
  const elapsed = () => (performance.now() - t0) / 1000
  const cpu = cpuSince(process.cpuUsage())
  const show = progress(label)
  return {
    t0,
    elapsed,
    cpu,
    follow: (tracker: AccuracyTracker, line: string) => {
      const n = tracker.tests.length
      tracker.onLine(line)
      if (tracker.tests.length > n) show(tracker.tests[n]!)
    },
    result: (tracker: AccuracyTracker, o: { workers: number; rule: string; capped: boolean }): RunResult => ({
      label,
      workers: o.workers,
      rule: o.rule,
      tests: tracker.tests,
      reached: tracker.reached,
      wallSeconds: elapsed(),
      cpuSeconds: cpu(),
      stoppedBy: tracker.done ? "target" : o.capped ? "cap" : "max_iter",
      loadStart,
      loadEnd: os.loadavg()
    })
  }
}

/** (a) One solver, as `deepspark train -solver S` runs it, stopped at the highest target or the cap. */
const runSingle = async (o: TimeToAccuracyOptions, ws: { dir: string; solver: string }): Promise<RunResult> => {
  const file = openLog(path.join(o.outDir, "single.log"))
  const run = startRun("1 solver")
  const tracker = new AccuracyTracker(o.targets, run.elapsed, run.cpu)
  const log = new GlogLogger((line) => {
    file.write(line)
    run.follow(tracker, line)
  })
  let capped = false
  let stopAsked = false
  try {
    const session = await createTrainingSession({
      solverFile: ws.solver,
      cwd: ws.dir,
      backend: await chooseBackend(o.backend, log),
      log,
      // Polled after every iteration and test batch: Caffe's signal path (one "stop", as a signal gives
      // one; the solver polls again until it hears "none"), used here as the stop rule.
      requestedAction: () => {
        if (stopAsked) return "none"
        capped = !tracker.done && run.elapsed() >= o.capSeconds
        stopAsked = tracker.done || capped
        return stopAsked ? "stop" : "none"
      }
    })
    try {
      await session.solver.solveAsync()
    } finally {
      await session.close()
    }
  } finally {
    file.close()
  }
  return run.result(tracker, { workers: 1, rule: "single", capped })
}

/** (b) N local worker threads with the center here; the center is asked to stop at the target or the cap. */
const runDist = (o: TimeToAccuracyOptions, ws: { dir: string; solver: string }): Promise<RunResult> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const file = openLog(path.join(o.outDir, "dist.log"))
        yield* Effect.addFinalizer(() => Effect.sync(() => file.close()))
        const run = startRun(`${o.workers} workers`)
        const reached = yield* Deferred.make<void>()
        const tracker = new AccuracyTracker(o.targets, run.elapsed, run.cpu, () => Deferred.unsafeDone(reached, Exit.void))
        const log = new GlogLogger((line) => file.write(line))
        const eventLog = path.join(o.outDir, "dist-events.jsonl")
        fs.rmSync(eventLog, { force: true }) // the event log appends
        let capped = false
        const capReached = Effect.suspend(() => Effect.sleep(Duration.millis(Math.max(0, o.capSeconds * 1000 - (performance.now() - run.t0))))).pipe(
          Effect.tap(() => Effect.sync(() => (capped = true)))
        )
        // The local pool, plus a watcher that asks the center to stop (workers stop at their next exchange).
        const stoppablePool = Layer.effect(
          WorkerPool,
          Effect.map(WorkerPool, (pool) => ({
            ...pool,
            run: (assignments: Parameters<typeof pool.run>[0]) =>
              Effect.gen(function* () {
                const center = yield* Center
                const watcher = yield* Effect.fork(Effect.raceFirst(Deferred.await(reached), capReached).pipe(Effect.zipRight(center.requestStop)))
                return yield* pool.run(assignments).pipe(Effect.ensuring(Fiber.interrupt(watcher)))
              })
          }))
        ).pipe(Layer.provide(LocalWorkerPool({ log: (l) => log.warn(l) })))
        yield* runDistributedTrain({
          solverFile: ws.solver,
          cwd: ws.dir,
          workers: o.workers,
          settings: makeEasgdSettings({ rule: o.rule, period: o.period, moving_rate: o.movingRate }),
          backend: o.backend,
          log,
          eventLog,
          testLog: (line) => {
            file.write(line)
            run.follow(tracker, line)
          }
        }).pipe(Effect.provide(stoppablePool))
        return run.result(tracker, { workers: o.workers, rule: `${o.rule} τ ${o.period} α ${o.movingRate}`, capped })
      })
    )
  )

const loadText = (l: ReadonlyArray<number>) => l.map((v) => v.toFixed(2)).join(" ")
const pct = (t: number) => `${(t * 100).toFixed(1)} %`

/** The summary table: one row per run, then the 1-worker / N-worker time ratios. */
export const formatTable = (runs: ReadonlyArray<RunResult>, targets: ReadonlyArray<number>): string[] => {
  const lines: string[] = []
  const cell = (r: RunResult, t: number) => {
    const p = r.reached.get(t)
    if (!p) return `not reached (best ${Math.max(0, ...r.tests.map((x) => x.accuracy)).toFixed(4)})`.padEnd(36)
    const iters = r.workers > 1 ? `${p.iteration}×${r.workers}` : `${p.iteration}`
    return `${p.seconds.toFixed(1).padStart(7)} s  it ${iters.padStart(7)}  CPU ${p.cpuSeconds.toFixed(0).padStart(5)} s`.padEnd(36)
  }
  lines.push(
    `${"rule".padEnd(26)} | workers | ${targets.map((t) => `time to ${pct(t)} (iterations, CPU)`.padEnd(36)).join(" | ")} | run wall / CPU     | tests (time in tests) | stopped by`
  )
  for (const r of runs) {
    const testTime = r.tests.reduce((s, p) => s + p.testSeconds, 0)
    lines.push(
      `${r.rule.padEnd(26)} | ${String(r.workers).padStart(7)} | ${targets.map((t) => cell(r, t)).join(" | ")} | ${`${r.wallSeconds.toFixed(0)} s / ${r.cpuSeconds.toFixed(0)} s`.padEnd(18)} | ${`${r.tests.length} (${testTime.toFixed(1)} s)`.padEnd(21)} | ${r.stoppedBy}`
    )
  }
  lines.push("it = the solver's iteration when the test ran (N workers: per-worker iteration × N); CPU = process CPU seconds by then")
  const single = runs.find((r) => r.workers === 1)
  const dist = runs.find((r) => r.workers > 1)
  if (single && dist) {
    const ratios = targets.map((t) => {
      const a = single.reached.get(t)
      const b = dist.reached.get(t)
      return `${pct(t)}: ${a && b ? `${(a.seconds / b.seconds).toFixed(2)}×` : "—"}`
    })
    lines.push(`ratio 1-worker time / ${dist.workers}-worker time (> 1: the workers were faster): ${ratios.join(", ")}`)
  }
  return lines
}

export async function benchTimeToAccuracy(argv: ReadonlyArray<string> = process.argv.slice(2)): Promise<void> {
  const o = parseTimeToAccuracyArgs(argv)
  fs.mkdirSync(o.outDir, { recursive: true })
  const loadStart = os.loadavg()
  console.log(
    `machine: ${os.cpus().length} logical cores (${os.cpus()[0]?.model ?? "unknown CPU"}), load average ${loadText(loadStart)} (1/5/15 min) at start. ` +
      `The machine is shared: other jobs' load is in these times; compare the two rows of this run, not runs on different days.`
  )
  console.log(
    `LeNet on MNIST, Caffe's stock solver (test_interval ${o.testInterval}, no test at iteration 0, no snapshots), backend ${o.backend}; ` +
      `targets ${o.targets.map(pct).join(", ")}; cap ${o.capSeconds} s per run; each run stops at ${pct(o.targets[o.targets.length - 1]!)}.`
  )
  console.log(
    "time = wall seconds from the start of the run (set-up included) until a test result at the target is known; " +
      "the single solver tests inline (training pauses), the center is tested by its evaluator thread while the workers train; CPU = the whole process, all threads."
  )
  const ws = await prepareWorkspace(o.outDir, o.testInterval)
  const runs: RunResult[] = []
  if (o.only !== "dist") {
    console.log(`\n(a) one solver (log: ${path.relative(repoRoot, path.join(o.outDir, "single.log"))})`)
    runs.push(await runSingle(o, ws))
  }
  if (o.only !== "single") {
    console.log(`\n(b) ${o.workers} workers, ${o.rule} τ ${o.period} α ${o.movingRate}, center tested (log: ${path.relative(repoRoot, path.join(o.outDir, "dist.log"))})`)
    runs.push(await runDist(o, ws))
  }
  console.log("")
  for (const line of formatTable(runs, o.targets)) console.log(line)
  for (const r of runs) console.log(`load average during ${r.label}: ${loadText(r.loadStart)} at start, ${loadText(r.loadEnd)} at end`)
  console.log(`machine: ${os.cpus().length} logical cores; load average ${loadText(loadStart)} at start, ${loadText(os.loadavg())} at end (shared machine)`)
  const results = path.join(o.outDir, "results.jsonl")
  fs.appendFileSync(
    results,
    JSON.stringify({
      date: new Date().toISOString(),
      cores: os.cpus().length,
      options: { ...o, outDir: undefined },
      runs: runs.map((r) => ({ ...r, reached: Object.fromEntries([...r.reached].map(([t, p]) => [String(t), p])) }))
    }) + "\n"
  )
  console.log(`results appended to ${path.relative(repoRoot, results)}`)
}

// Run directly: node bin/run-ts.mjs bench/time-to-accuracy.ts [--flag value ...]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await benchTimeToAccuracy()
