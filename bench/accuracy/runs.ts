import { chooseBackend, createTrainingSession, GlogLogger, type Backend } from "@deepspark/engine"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Center } from "../../src/center/center-service.js"
import { runDistributedTrain } from "../../src/driver/distributed-train.js"
import { LocalWorkerPool, WorkerPool } from "../../src/driver/worker-pool.js"
import { makeEasgdSettings } from "../../src/easgd/settings.js"
import { AccuracyTracker, type TestPoint } from "./accuracy-tracker.js"
import type { RunRecord } from "./run-record.js"

/** What one run needs: the solver (its seed inside), the rule, and where to log. */
export interface RunSpec {
  readonly rule: string
  readonly settings: Readonly<Record<string, string>>
  readonly workers: number
  readonly solver: string
  readonly cwd: string
  readonly targets: ReadonlyArray<number>
  readonly capSeconds: number
  readonly backend: string
  /** The lone solver's GEMM threads (the cpu backend's `cpuThreads`; a distributed run's trainers use one). */
  readonly solverThreads?: number
  /** The Caffe log of the run (the center's test lines for a distributed run). */
  readonly logFile: string
}

/** What a run measured (the caller adds the invocation, setup, seed and batch to make a RunRecord). */
export type RunOutcome = Pick<RunRecord, "tests" | "wallSeconds" | "cpuSeconds" | "stoppedBy" | "loadStart" | "loadEnd"> & { readonly error?: string }

const openLog = (file: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const fd = fs.openSync(file, "w")
  return { write: (line: string) => fs.writeSync(fd, line + "\n"), close: () => fs.closeSync(fd) }
}

const progress = (label: string) => (p: TestPoint) =>
  console.log(
    `  [${label}] ${p.seconds.toFixed(1).padStart(6)} s  iteration ${String(p.iteration).padStart(5)}: accuracy ${p.accuracy.toFixed(4)} (test ${p.testSeconds.toFixed(1)} s)${p.diverged ? " — loss not finite: diverged" : ""}`
  )

/** A run's clocks, started now: wall seconds, the whole process's CPU seconds (every thread), load. */
const startClocks = (label: string) => {
  const loadStart = os.loadavg()
  const t0 = performance.now()
  const cpuStart = process.cpuUsage()
  const elapsed = () => (performance.now() - t0) / 1000
  const cpu = () => {
    const u = process.cpuUsage(cpuStart)
    return (u.user + u.system) / 1e6
  }
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
    outcome: (tracker: AccuracyTracker, capped: boolean, error?: unknown): RunOutcome => ({
      tests: tracker.tests,
      wallSeconds: elapsed(),
      cpuSeconds: cpu(),
      stoppedBy: error !== undefined ? "failed" : tracker.done ? "target" : capped ? "cap" : "max_iter",
      loadStart,
      loadEnd: os.loadavg(),
      ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error) } : {})
    })
  }
}

/**
 * The lone solver, as `deepspark train -solver S` runs it (its GEMMs split over `solverThreads` threads,
 * every core by default, as there), stopped at the highest target or the cap. It tests inline, as Caffe
 * does (training pauses, so its wall time includes every earlier test).
 */
export const runSingle = async (spec: RunSpec): Promise<RunOutcome> => {
  const file = openLog(spec.logFile)
  const clocks = startClocks("1 solver")
  const tracker = new AccuracyTracker(spec.targets, clocks.elapsed, clocks.cpu)
  const log = new GlogLogger((line) => {
    file.write(line)
    clocks.follow(tracker, line)
  })
  let capped = false
  let stopAsked = false
  let backend: Backend | undefined
  try {
    backend = await chooseBackend(spec.backend, log, spec.solverThreads !== undefined ? { cpuThreads: spec.solverThreads } : {})
    const session = await createTrainingSession({
      solverFile: spec.solver,
      cwd: spec.cwd,
      backend,
      log,
      // Polled after every iteration and test batch: Caffe's signal path (one "stop", as a signal gives
      // one; the solver polls again until it hears "none"), used here as the stop rule.
      requestedAction: () => {
        if (stopAsked) return "none"
        capped = !tracker.done && clocks.elapsed() >= spec.capSeconds
        stopAsked = tracker.done || capped
        return stopAsked ? "stop" : "none"
      }
    })
    try {
      await session.solver.solveAsync()
    } finally {
      await session.close()
    }
    return clocks.outcome(tracker, capped)
  } catch (e) {
    return clocks.outcome(tracker, capped, e)
  } finally {
    file.close()
    await backend?.dispose?.()
  }
}

/**
 * N local worker threads with the center here, tested by its evaluator thread on a copy of x̃ while
 * the workers train; the center is asked to stop (workers stop at their next exchange) once the highest
 * target is reached or at the cap. A run that fails (a rule that diverges, a crash) is recorded as failed.
 */
export const runDistributed = (spec: RunSpec): Promise<RunOutcome> => {
  const clocks = startClocks(`${spec.rule} × ${spec.workers}`)
  let tracker: AccuracyTracker | undefined
  let capped = false
  const program = Effect.gen(function* () {
    const file = openLog(spec.logFile)
    yield* Effect.addFinalizer(() => Effect.sync(() => file.close()))
    const reached = yield* Deferred.make<void>()
    const t = new AccuracyTracker(spec.targets, clocks.elapsed, clocks.cpu, () => Deferred.unsafeDone(reached, Exit.void))
    tracker = t
    const log = new GlogLogger((line) => file.write(line))
    const eventLog = spec.logFile.replace(/\.log$/, "") + "-events.jsonl"
    fs.rmSync(eventLog, { force: true }) // the event log appends
    const capReached = Effect.suspend(() => Effect.sleep(Duration.millis(Math.max(0, spec.capSeconds * 1000 - (performance.now() - clocks.t0))))).pipe(
      Effect.tap(() => Effect.sync(() => (capped = true)))
    )
    // The local pool, plus a watcher that asks the center to stop.
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
      solverFile: spec.solver,
      cwd: spec.cwd,
      workers: spec.workers,
      settings: makeEasgdSettings({ ...spec.settings, rule: spec.rule }, { workers: spec.workers }),
      backend: spec.backend,
      log,
      eventLog,
      testLog: (line) => {
        file.write(line)
        clocks.follow(t, line)
      }
    }).pipe(Effect.provide(stoppablePool))
  })
  const empty = () => new AccuracyTracker(spec.targets, clocks.elapsed, clocks.cpu)
  return Effect.runPromiseExit(Effect.scoped(program)).then((exit) =>
    Exit.isSuccess(exit) ? clocks.outcome(tracker ?? empty(), capped) : clocks.outcome(tracker ?? empty(), capped, Cause.pretty(exit.cause).split("\n")[0])
  )
}
