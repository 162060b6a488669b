import { Deferred, Effect } from "effect"
import type { Logger } from "@deepspark/engine"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { exchangeCheckpointBase, readCenterCheckpoint, writeCenterCheckpoint } from "../center/center-checkpoint.js"
import { Center, layerCenter } from "../center/center-service.js"
import type { CenterEvent } from "../center/center-state.js"
import { ruleByName } from "../easgd/rule-registry.js"
import { describeRuleSettings, type EasgdSettings } from "../easgd/settings.js"
import { openCenterJob } from "../center/caffe-job.js"
import { defaultEvaluatorNiceness, startEvaluatorAfter } from "../center/evaluator.js"
import type { TestNetResult } from "../center/evaluator-protocol.js"
import type { LocalWorkerOutcome } from "./local-workers.js"
import { LocalWorkerPool, WorkerPool } from "./worker-pool.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"
import { centerRunEvent } from "../observe/center-run-events.js"
import { CenterDiverged, RunDone, RunStarted, SnapshotWritten, TestResult, WorkerLost, WorkerStopped } from "../observe/run-event.js"
import { makeRunEventHub, type RunEventHub } from "../observe/run-event-hub.js"
import { eventLogWriter, freshRunFiles, observeRun, plotWriter } from "../observe/run-observers.js"
import { messageOf, TrainingSettingsError, TrainingSetupError } from "./training-errors.js"

/**
 * The driver of a distributed run (DeepSpark's driver): read the solver and the settings, start the
 * center (x̃ from the solver's initial weights, or from a checkpoint) and its evaluator thread, hand one
 * assignment per partition to the WorkerPool (worker threads, or TCP workers — a Layer decides), test x̃
 * on the solver's test nets every `testInterval` exchanges, checkpoint it atomically, and write the
 * final center as a Caffe snapshot.
 *
 * `deepspark center` (../center/run-center.ts) is a separate program over the same Center, CenterJob
 * and checkpoints: there the workers own the plan and the job need not be Caffe's (why, at its top).
 */
export interface DistributedTrainOptions {
  readonly solverFile: string
  readonly cwd?: string
  readonly workers: number
  readonly settings: EasgdSettings
  readonly backend?: string
  readonly weights?: string
  /** Local iterations per worker (default: the solver's max_iter, as DeepSpark runs). */
  readonly maxIter?: number
  /** Test x̃ every this many exchanges (default: the solver's test_interval in per-worker iterations). */
  readonly testInterval?: number
  /** Checkpoint every this many exchanges (default: the solver's snapshot interval, likewise). */
  readonly checkpointEvery?: number
  /** Continue from a center checkpoint (`.dsstate`). */
  readonly resume?: string
  /** Writes the run's events as JSON lines to this file (a fresh file per run). */
  readonly eventLog?: string
  /** Keeps this SVG plot of the run up to date (during the run and at its end). */
  readonly plot?: string
  /** Publishes the run's progress here (a hub the caller subscribes to); default: a hub of its own. */
  readonly events?: RunEventHub
  /**
   * Trainers read their partition of the train net's Data layers from these LMDBs (layer name → path,
   * per partition index) instead of partitioning the layers' sources: how data given in code reaches them.
   */
  readonly stagedData?: (partition: number) => Readonly<Record<string, string>>
  readonly log: Logger
  /** Receives the evaluator's Caffe test lines, already in glog format (default: stderr, as glog). */
  readonly testLog?: (line: string) => void
  readonly verboseWorkers?: boolean
  /**
   * Each worker's own Caffe log (what `caffe train` would log for its partition: `Iteration N (…),
   * loss = …`, `Train net output #k: …`, `lr = …`), one file per worker as glog keeps one per process, so
   * Caffe's parse_log.py reads each worker's training curve: `<prefix>.worker<i>.log`, the prefix being the
   * snapshot prefix, in `dir` when given (glog's --log_dir). A fresh file per run. Written by trainers
   * on this host (local worker threads); `false`: none.
   */
  readonly workerLogs?: { readonly dir?: string } | false
  /** Nice value of the center's test thread (default 0: see defaultEvaluatorNiceness in src/center/evaluator.ts). */
  readonly evaluatorNiceness?: number
  /** Fault injection: worker `worker` crashes once at local iteration `atIteration`. */
  readonly crash?: { readonly worker: number; readonly atIteration: number }
}

export interface DistributedTrainResult {
  readonly exchanges: number
  readonly seconds: number
  readonly finalTest: ReadonlyArray<TestNetResult> | undefined
  readonly snapshot: { readonly caffemodel: string; readonly dsstate: string }
  readonly workers: ReadonlyArray<LocalWorkerOutcome>
  /**
   * Set when a test of the center gave a loss that is not finite: the run was stopped there and its
   * center is no result (Caffe's Accuracy layer counts NaN scores as correct, so accuracy alone can
   * look perfect).
   */
  readonly diverged: { readonly exchanges: number; readonly iteration: number; readonly reason: string } | undefined
  readonly eventLog: string | undefined
  readonly plot: string | undefined
}

const accuracyOf = (r: TestNetResult | undefined) => r?.outputs.find((o) => /accuracy/i.test(o.name))?.value
const lossOf = (r: TestNetResult | undefined) => r?.outputs.find((o) => o.lossWeight > 0)?.value
const optional = <K extends string>(key: K, value: number | undefined) => (value === undefined ? {} : ({ [key]: value } as { [P in K]: number }))

/** `<prefix>.worker<i>.log` for each worker, in `dir` (resolved from `cwd`) when given. */
export const workerLogPaths = (prefix: string, dir: string | undefined, cwd: string, workers: number): ReadonlyArray<string> => {
  const base = dir !== undefined ? path.join(path.resolve(cwd, dir), path.basename(prefix)) : path.resolve(cwd, prefix)
  return Array.from({ length: workers }, (_, i) => `${base}.worker${i}.log`)
}

export const runDistributedTrain = (options: DistributedTrainOptions) =>
  Effect.gen(function* () {
    const cwd = options.cwd ?? process.cwd()
    const log = options.log
    const t0 = Date.now()
    const job = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          openCenterJob({
            solverFile: options.solverFile,
            cwd,
            log,
            ...(options.weights ? { weights: options.weights } : {}),
            ...(options.stagedData ? { stagedData: options.stagedData(0) } : {})
          }),
        catch: (e) => new TrainingSetupError({ file: options.solverFile, message: messageOf(e) })
      }),
      (j) => Effect.promise(() => j.close())
    )
    const solver = job.solver
    const rule = yield* Effect.try({
      try: () => ruleByName(options.settings.rule),
      catch: (e) => new TrainingSettingsError({ field: "rule", message: messageOf(e) })
    })
    const N = options.workers
    const tau = options.settings.period
    const maxIter = options.maxIter ?? solver.max_iter ?? 0
    if (!Number.isInteger(N) || N < 1) return yield* new TrainingSettingsError({ field: "workers", message: `workers must be a positive integer, got ${N}` })
    if (!(maxIter > 0)) return yield* new TrainingSettingsError({ field: "max_iter", message: `${options.solverFile}: max_iter must be > 0 (got ${maxIter})` })
    // Caffe's per-iteration intervals become exchange counts: N workers exchange every τ iterations.
    const perIterations = (iters: number) => (iters > 0 ? Math.max(1, Math.round((iters * N) / tau)) : 0)
    const testInterval = options.testInterval ?? perIterations(solver.test_interval ?? 0)
    const checkpointEvery = options.checkpointEvery ?? perIterations(solver.snapshot ?? 0)
    const prefix = job.defaultCheckpointPrefix ?? path.resolve(cwd, path.dirname(options.solverFile), path.basename(options.solverFile).replace(/\.[^.]*$/, ""))
    const equivalentIteration = (exchanges: number) => Math.round((exchanges * tau) / N)

    log.info(`Solving ${options.solverFile} with ${N} workers: rule ${options.settings.rule} (${describeRuleSettings(options.settings)})`)
    log.info(`Center variable: ${job.paramCount} parameters; testing every ${testInterval || "—"} exchanges, checkpoint every ${checkpointEvery || "—"}`)

    const hub = options.events ?? (yield* makeRunEventHub())
    // Subscribers' streams end with the run, also when it fails.
    yield* Effect.addFinalizer(() => hub.end)
    const title = `${solver.net ?? options.solverFile}: ${N} workers, ${options.settings.rule}`
    const observers: Array<Effect.Effect<void>> = []
    yield* freshRunFiles({ eventLog: options.eventLog, plot: options.plot !== undefined ? { file: options.plot, title } : undefined }).pipe(
      Effect.mapError((e) => new TrainingSetupError({ file: e.file, message: e.message }))
    )
    if (options.eventLog) {
      observers.push(yield* observeRun(hub, eventLogWriter(options.eventLog)))
      log.info(`Writing the event log to ${options.eventLog} (a fresh file for this run)`)
    }
    if (options.plot) {
      observers.push(yield* observeRun(hub, plotWriter(options.plot, title)))
      log.info(`Plotting the run to ${options.plot} (redrawn after each test and at the end)`)
    }
    hub.publish(new RunStarted({ t: hub.elapsed(), solver: options.solverFile, workers: N, rule: options.settings.rule }))
    const hasTests = (solver.test_iter ?? []).length > 0
    // The first test comes after test_interval iterations, so the evaluator thread starts once the trainers
    // train (the first exchange), not beside their start-up on the same cores; its setup error still ends
    // the run. A run that ends before any exchange starts it for its final test.
    const trainersTraining = yield* Deferred.make<void>()
    const evaluator = hasTests
      ? yield* startEvaluatorAfter(
          Deferred.await(trainersTraining),
          {
            solverPath: options.solverFile,
            cwd,
            niceness: options.evaluatorNiceness ?? defaultEvaluatorNiceness,
            ...(options.backend ? { backend: options.backend } : {}),
            ...(options.stagedData ? { stagedData: options.stagedData(0) } : {})
          },
          options.testLog ?? ((line) => process.stderr.write(line + "\n"))
        )
      : undefined
    const evaluatorStarted = evaluator
      ? evaluator.ready.pipe(Effect.tap((e) => Effect.sync(() => log.info(`Testing the center in its own thread (nice ${e.niceness ?? "unknown"})`))))
      : Effect.void

    // Caffe checks that it can write its snapshots before it trains; so does the center (it makes the folder).
    yield* Effect.try({
      try: () => {
        fs.mkdirSync(path.dirname(prefix), { recursive: true })
        const probe = `${prefix}.${process.pid}.tempfile`
        fs.writeFileSync(probe, "")
        fs.rmSync(probe, { force: true })
      },
      catch: (e) => new TrainingSetupError({ file: prefix, message: `Cannot write to snapshot prefix '${prefix}': ${messageOf(e)}` })
    })
    const pool = yield* WorkerPool
    log.info(`Trainers: ${pool.description}`)
    const workerLogs = options.workerLogs !== false ? workerLogPaths(prefix, options.workerLogs?.dir, cwd, N) : undefined
    // Trainers on other hosts (cluster runners) write their logs there, at the same path under the job's
    // working directory (as glog leaves each Caffe process's log on its machine); given relative to it,
    // so a runner confines it to its --root like the job's other paths.
    const workerLogFiles = pool.trainersOnThisHost ? workerLogs : workerLogs?.map((file) => path.relative(cwd, file))
    if (workerLogFiles && pool.trainersOnThisHost) {
      // Made (empty) before any trainer starts: a log that cannot be written is the user's setting, said once.
      for (const file of workerLogFiles)
        yield* Effect.try({
          try: () => {
            fs.mkdirSync(path.dirname(file), { recursive: true })
            fs.writeFileSync(file, "")
          },
          catch: (e) => new TrainingSetupError({ file, message: `cannot write the worker log ${file}: ${messageOf(e)}` })
        })
      log.info(`Each worker's Caffe log: ${workerLogFiles.length > 1 ? `${workerLogFiles[0]} … ${workerLogFiles.at(-1)}` : workerLogFiles[0]} (parse_log.py reads them)`)
    }
    const token = pool.token ?? randomBytes(16).toString("hex")
    const initial = job.initialParams()
    const onEvent = (e: CenterEvent) => {
      const event = centerRunEvent(e, hub.elapsed())
      if (event) hub.publish(event)
      if (e.type === "exchange") Deferred.unsafeDone(trainersTraining, Effect.void)
      if (e.type === "exchange" && (e.exchanges % Math.max(1, N) === 0 || e.exchanges < 2 * N))
        log.info(
          `Exchange ${e.exchanges} (iteration ≈ ${equivalentIteration(e.exchanges)}): ${e.workerId} at iteration ${e.clock}, loss = ${e.loss.toPrecision(6)}, ` +
            `${e.itersPerSecond.toFixed(1)} iter/s, exchange ${e.latencyMs} ms, ‖x_i − x̃‖ = ${e.distance.toPrecision(4)}, staleness ${e.staleness}`
        )
      if (e.type === "diverged") log.warn(`Worker ${e.workerId} diverged (non-finite loss or parameters at iteration ${e.clock}); reset from the center`)
      if (e.type === "registered" && e.incarnation > 1) log.warn(`Worker ${e.workerId} re-registered (incarnation ${e.incarnation}); resuming its partition`)
    }
    let lastTest: ReadonlyArray<TestNetResult> | undefined
    let lastTestAt = -1
    let diverged: DistributedTrainResult["diverged"]
    let stopCenter: Effect.Effect<void> = Effect.void
    /** The center has diverged: say so once (the run is stopped; its center is no result). */
    const reportDivergence = (reason: string, exchanges: number) => {
      if (diverged) return
      diverged = { exchanges, iteration: equivalentIteration(exchanges), reason }
      log.error(`Center diverged at iteration ≈ ${diverged.iteration} (exchange ${exchanges}), rule ${rule.name}: ${reason}; stopping the run — its center is not a result`)
      hub.publish(new CenterDiverged({ t: hub.elapsed(), ...diverged }))
    }
    /** A test of the center whose loss is not finite: the center has diverged. */
    const checkDivergence = (r: ReadonlyArray<TestNetResult>, exchanges: number) => {
      const loss = lossOf(r[0])
      if (loss === undefined || Number.isFinite(loss) || diverged) return Effect.void
      reportDivergence(`test loss = ${loss}`, exchanges)
      return stopCenter
    }
    const program = Effect.gen(function* () {
      const center = yield* Center
      stopCenter = center.requestStop
      if (options.resume) {
        const ck = yield* Effect.tryPromise({
          try: () => readCenterCheckpoint(job, path.resolve(cwd, options.resume!)),
          catch: (e) => new TrainingSetupError({ file: options.resume!, message: messageOf(e) })
        })
        const { ruleStateRestored } = yield* center.restore(ck.x, ck.state)
        if (!ruleStateRestored)
          log.warn(`${options.resume} holds no ${rule.name} center state (a checkpoint of rule ${ck.state.rule}): its outer momentum starts at zero`)
        log.info(`Resumed the center from ${options.resume} at exchange ${ck.state.exchanges}`)
      }
      const localSolver = rule.localSolver?.(options.settings)
      const lrScale = options.settings.lrScaling === "linear" && N > 1 ? { lrScale: N, lrWarmup: options.settings.lrWarmup } : {}
      const assignments: WorkerAssignment[] = Array.from({ length: N }, (_, i) => ({
        workerId: `worker${i}`,
        token,
        partition: { index: i, count: N },
        period: tau,
        maxIter,
        adaptivePeriod: options.settings.adaptivePeriod,
        ...(options.settings.overlapExchange ? { overlapExchange: true } : {}),
        spec: {
          kind: "caffe",
          solverPath: options.solverFile,
          workingDirectory: cwd,
          ...(options.backend ? { backend: options.backend } : {}),
          ...(localSolver ? { solverType: localSolver.type, momentum: localSolver.momentum } : {}),
          ...lrScale,
          ...(options.verboseWorkers ? { verbose: true } : {}),
          ...(workerLogFiles ? { logFile: workerLogFiles[i]! } : {}),
          ...(options.stagedData ? { stagedData: options.stagedData(i) } : {})
        },
        ...(options.crash && options.crash.worker === i ? { crashAtIteration: options.crash.atIteration } : {})
      }))
      const outcomes = yield* Effect.raceFirst(pool.run(assignments), evaluatorStarted.pipe(Effect.zipRight(Effect.never)))
      yield* Deferred.succeed(trainersTraining, undefined)
      yield* center.quiesce
      // A final test unless the last periodic test already saw this x̃.
      const final = yield* center.checkpointData
      const finalTest =
        lastTestAt === final.state.exchanges && lastTest
          ? lastTest
          : yield* center.testNow.pipe(Effect.map((r) => (r ? lastTest : undefined)))
      // A diverged center is kept for inspection under a name no tool takes for the finished model.
      const base = diverged ? `${prefix}_diverged_exchange_${final.state.exchanges}` : `${prefix}_iter_${maxIter}`
      const files = yield* Effect.tryPromise({
        try: () => writeCenterCheckpoint(job, base, final.x, final.state),
        catch: (e) => new TrainingSetupError({ file: base, message: `cannot write the center's snapshot: ${messageOf(e)}` })
      })
      log.info(`Snapshotting to binary proto file ${files.model}`)
      hub.publish(new SnapshotWritten({ t: hub.elapsed(), file: files.model, exchanges: final.state.exchanges }))
      return { outcomes, exchanges: final.state.exchanges, finalTest, snapshot: { caffemodel: files.model, dsstate: files.state } }
    })

    const result = yield* program.pipe(
      Effect.provide(
        layerCenter(
          { token, settings: options.settings, workers: N, initial },
          {
            testInterval,
            ...(evaluator
              ? {
                  evaluate: (x: Float32Array, exchanges: number) =>
                    evaluator.test(x, equivalentIteration(exchanges)).pipe(
                      // A span per test of x̃ (exported when the program provides a tracer, e.g. @effect/opentelemetry's).
                      Effect.withSpan("deepspark.center.test", { attributes: { "deepspark.exchanges": exchanges, "deepspark.iteration": equivalentIteration(exchanges) } }),
                      Effect.tap((r) =>
                        Effect.sync(() => {
                          lastTest = r
                          lastTestAt = exchanges
                          hub.publish(
                            new TestResult({
                              t: hub.elapsed(),
                              exchanges,
                              iteration: equivalentIteration(exchanges),
                              ...optional("accuracy", accuracyOf(r[0])),
                              ...optional("loss", lossOf(r[0])),
                              outputs: (r[0]?.outputs ?? []).map((o) => ({ name: o.name, value: o.value }))
                            })
                          )
                        })
                      ),
                      Effect.tap((r) => checkDivergence(r, exchanges)),
                      Effect.map((r) => ({ outputs: r[0]?.outputs ?? [] }))
                    )
                }
              : {}),
            checkpointEvery,
            writeCheckpoint: (x, state) =>
              Effect.tryPromise(() => writeCenterCheckpoint(job, exchangeCheckpointBase(prefix, state.exchanges), x, state)).pipe(
                Effect.map((files) => {
                  log.info(`Checkpointed the center to ${files.model} (+ ${path.basename(files.state)})`)
                  hub.publish(new SnapshotWritten({ t: hub.elapsed(), file: files.model, exchanges: state.exchanges }))
                  return files.model
                })
              ),
            onEvent,
            onDiverged: reportDivergence,
            onWorkerDropped: (workerId, reason) => hub.publish(new WorkerLost({ t: hub.elapsed(), worker: workerId, reason })),
            onWorkerStopped: (workerId, reason) => hub.publish(new WorkerStopped({ t: hub.elapsed(), worker: workerId, reason })),
            log: (l) => log.info(l)
          }
        )
      )
    )
    const seconds = (Date.now() - t0) / 1000
    hub.publish(new RunDone({ t: hub.elapsed(), exchanges: result.exchanges, seconds, ...optional("accuracy", accuracyOf(result.finalTest?.[0])) }))
    yield* hub.end
    for (const written of observers) yield* written
    log.info("Optimization Done.")
    return {
      exchanges: result.exchanges,
      seconds,
      finalTest: result.finalTest,
      snapshot: result.snapshot,
      workers: result.outcomes,
      diverged,
      eventLog: options.eventLog,
      plot: options.plot
    } satisfies DistributedTrainResult
  })

/** runDistributedTrain with trainers in local worker threads (what `deepspark train --workers N` runs). */
export const runLocalDistributedTrain = (options: DistributedTrainOptions & { readonly maxRestarts?: number }) =>
  runDistributedTrain(options).pipe(
    Effect.provide(
      LocalWorkerPool({
        log: (l) => options.log.warn(l),
        ...(options.maxRestarts !== undefined ? { maxRestarts: options.maxRestarts } : {})
      })
    )
  )
