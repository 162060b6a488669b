import { filterNet, readNetPrototxtSync, readSolverPrototxtSync, resolveSolverNets } from "@deepspark/caffe"
import { writePartitionLmdb, type Datum } from "@deepspark/data"
import type { Logger } from "@deepspark/engine"
import { Deferred, Effect, Layer, Stream, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { runDistributedTrain, type DistributedTrainResult } from "../driver/distributed-train.js"
import { messageOf, TrainingSettingsError, TrainingSetupError } from "../driver/training-errors.js"
import { LocalWorkerPool, type WorkerPool } from "../driver/worker-pool.js"
import type { EvaluatorError } from "../center/evaluator.js"
import type { WorkerFailedError } from "../driver/local-workers.js"
import type { EasgdSettings } from "../easgd/settings.js"
import type { RunEvent } from "../observe/run-event.js"
import { makeRunEventHub } from "../observe/run-event-hub.js"
import { deepsparkLoggerViaEffect } from "../observe/glog-effect-logger.js"
import { serveDashboard, type DashboardAddress, type DashboardError } from "../observe/dashboard/dashboard-server.js"
import { DatasetError, type Partition } from "./dataset.js"
import { Rules, type RuleChoice } from "./rules.js"

/**
 * Training runs as values and programs. A job says what to train (`Training.fromCaffe(solver)`: Caffe's
 * solver and nets, unchanged); `Training.distributed(job, { partitions, rule })` starts DeepSpark's run
 * of it in the current scope and returns its `events` (a Stream of RunEvents, from the start, ending
 * with the run) and its `result`. Data given in code (a Dataset's partitions: in-memory records, a
 * custom source, transform stages) is written once per partition to an LMDB in a staging folder, and
 * each trainer's train-net Data layer reads its partition from there instead of the layer's source —
 * the same path a worker on another host takes when it stages its partition.
 */
export interface CaffeJob {
  readonly _tag: "CaffeJob"
  readonly solverFile: string
  /** Where the prototxts' relative paths resolve (Caffe: the working directory). */
  readonly cwd: string
  readonly weights?: string
  readonly backend?: string
}

/** What can stop a run: bad files or settings, unreadable data, a worker that cannot start or keeps dying, the test nets' evaluator failing to start. */
export type TrainingError = TrainingSetupError | TrainingSettingsError | DatasetError | WorkerFailedError | EvaluatorError

export interface DistributedOptions {
  /** Data for the trainers, one partition each (default: each trainer partitions the solver's Data layers). */
  readonly partitions?: ReadonlyArray<Partition<Datum>>
  /** Trainers, when no partitions are given (default 2). */
  readonly workers?: number
  /**
   * The update rule and its settings (default: the CLI's default rule for the run's workers, downpour up to 3
   * and sync-sgd from 4, with its own settings; a RuleChoice gets its rule's defaults for that many), checked
   * when the run starts: a bad one fails the run with a TrainingSettingsError naming the setting.
   */
  readonly rule?: RuleChoice | EasgdSettings
  /** Iterations per worker (default: the solver's max_iter). */
  readonly maxIter?: number
  readonly testInterval?: number
  readonly checkpointEvery?: number
  readonly eventLog?: string
  readonly plot?: string
  /** The train-net Data layer the partitions feed (default: its only Data layer). */
  readonly dataLayer?: string
  /** Folder for the partitions' LMDBs (default: a temporary folder removed when the scope closes). */
  readonly stageDir?: string
  /**
   * Caffe's log lines (default: the program's Effect Logger — provide `GlogEffectLoggerLive` for glog
   * lines on stderr, as `deepspark train` writes them).
   */
  readonly log?: Logger
  readonly testLog?: (line: string) => void
  /**
   * Each worker's Caffe log in its own file, `<snapshot prefix>.worker<i>.log` (in `dir` when given), as
   * parse_log.py reads a `caffe train` log; `false`: none. Written by local worker threads.
   */
  readonly workerLogs?: { readonly dir?: string } | false
  /** Where the trainers run (default: local worker threads). */
  readonly pool?: Layer.Layer<WorkerPool>
  /**
   * Serve the live dashboard and /metrics while the run lasts (loopback unless `host`; port 0: any free
   * port). Off loopback it needs a `token`, which every request must carry (`?token=T`, `Authorization: Bearer T`).
   */
  readonly dashboard?: { readonly host?: string; readonly port: number; readonly token?: string }
}

export interface TrainingRun {
  /** The run's progress from its start; ends when the run ends (also when it fails). */
  readonly events: Stream.Stream<RunEvent>
  /** The dashboard's address, when one was asked for. */
  readonly dashboard: DashboardAddress | undefined
  /** Waits for the run: the center's last test, its snapshot, each worker's outcome. */
  readonly result: Effect.Effect<DistributedTrainResult, TrainingError>
}

/** The train net's Data layers (TRAIN phase), by name. */
const trainDataLayers = (job: CaffeJob): Effect.Effect<ReadonlyArray<string>, TrainingSetupError> =>
  Effect.try({
    try: () => {
      const solver = readSolverPrototxtSync(path.resolve(job.cwd, job.solverFile))
      const nets = resolveSolverNets(solver, { readNet: (f) => readNetPrototxtSync(f), cwd: job.cwd })
      return (filterNet(nets.train.net, nets.train.state).layer ?? []).filter((l) => l.type === "Data").map((l) => l.name ?? "")
    },
    catch: (e) => new TrainingSetupError({ file: job.solverFile, message: messageOf(e) })
  })

/** Writes each partition to `<dir>/partition-<i>` (an LMDB, Caffe's format) and returns the paths. */
const stagePartitions = (partitions: ReadonlyArray<Partition<Datum>>, dir: string, log: Logger) =>
  Effect.forEach(partitions, (p) =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* p.open
        const out = path.join(dir, `partition-${p.index}`)
        fs.rmSync(out, { recursive: true, force: true })
        yield* Effect.tryPromise({ try: () => writePartitionLmdb(source, out), catch: (e) => new DatasetError({ dataset: p.name, message: `${p.name}: ${messageOf(e)}` }) })
        log.info(`Staged ${source.size} records of ${p.name} at ${out}`)
        return out
      })
    )
  )

const checkPartitions = (partitions: ReadonlyArray<Partition<Datum>>) => {
  const n = partitions.length
  if (n < 1) return new TrainingSettingsError({ field: "partitions", message: "no partitions given" })
  const bad = partitions.findIndex((p, i) => p.count !== n || p.index !== i)
  return bad >= 0
    ? new TrainingSettingsError({
        field: "partitions",
        message: `partition ${bad} is ${partitions[bad]!.index} of ${partitions[bad]!.count}; give all ${n} partitions of one split, in order`
      })
    : undefined
}

const runOf = (job: CaffeJob, options: DistributedOptions, hub: Effect.Effect.Success<ReturnType<typeof makeRunEventHub>>) =>
  Effect.gen(function* () {
    // The run's Caffe lines go to the program's Effect Logger unless a log is given.
    const viaEffect = deepsparkLoggerViaEffect(yield* Effect.runtime<never>())
    const log = options.log ?? viaEffect
    const testLog = options.testLog ?? (options.log ? undefined : viaEffect.glogLine)
    const workers = options.partitions?.length ?? options.workers ?? 2
    const settings = yield* Rules.settings(options.rule, workers)
    const partitions = options.partitions
    let stagedData: ((i: number) => Readonly<Record<string, string>>) | undefined
    if (partitions) {
      const wrong = checkPartitions(partitions)
      if (wrong) return yield* wrong
      const layers = yield* trainDataLayers(job)
      const layer = options.dataLayer ?? (layers.length === 1 ? layers[0]! : undefined)
      if (layer === undefined || !layers.includes(layer))
        return yield* new TrainingSettingsError({
          field: "dataLayer",
          message: `${job.solverFile}: the train net's Data layers are [${layers.join(", ")}]; name the one the partitions feed (dataLayer)`
        })
      const dir = options.stageDir
        ? options.stageDir
        : yield* Effect.acquireRelease(
            Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-partitions-"))),
            (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
          )
      fs.mkdirSync(dir, { recursive: true })
      const paths = yield* stagePartitions(partitions, dir, log)
      stagedData = (i) => ({ [layer]: paths[i]! })
    }
    return yield* runDistributedTrain({
      solverFile: job.solverFile,
      cwd: job.cwd,
      workers,
      settings,
      log,
      events: hub,
      ...(testLog ? { testLog } : {}),
      ...(job.weights !== undefined ? { weights: job.weights } : {}),
      ...(job.backend !== undefined ? { backend: job.backend } : {}),
      ...(options.maxIter !== undefined ? { maxIter: options.maxIter } : {}),
      ...(options.testInterval !== undefined ? { testInterval: options.testInterval } : {}),
      ...(options.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery } : {}),
      ...(options.eventLog !== undefined ? { eventLog: path.resolve(job.cwd, options.eventLog) } : {}),
      ...(options.plot !== undefined ? { plot: path.resolve(job.cwd, options.plot) } : {}),
      ...(stagedData ? { stagedData } : {}),
      ...(options.workerLogs !== undefined ? { workerLogs: options.workerLogs } : {})
    }).pipe(Effect.provide(options.pool ?? LocalWorkerPool({ log: (l) => log.warn(l) })))
  }).pipe(Effect.scoped, Effect.ensuring(hub.end))

export const Training = {
  /** Caffe's solver prototxt and the nets it names, unchanged (paths resolve from `cwd`, default the process's). */
  fromCaffe: (solverFile: string, options: { readonly cwd?: string; readonly weights?: string; readonly backend?: string } = {}): CaffeJob => ({
    _tag: "CaffeJob",
    solverFile,
    cwd: options.cwd ?? process.cwd(),
    ...(options.weights !== undefined ? { weights: options.weights } : {}),
    ...(options.backend !== undefined ? { backend: options.backend } : {})
  }),

  /**
   * Starts DeepSpark's distributed run of `job` in a fiber of the current scope (closing the scope
   * interrupts it) and returns its events and result.
   */
  distributed: (job: CaffeJob, options: DistributedOptions = {}): Effect.Effect<TrainingRun, DashboardError, Scope.Scope> =>
    Effect.gen(function* () {
      const hub = yield* makeRunEventHub()
      const dashboard = options.dashboard
        ? yield* serveDashboard(hub, { ...options.dashboard, title: job.solverFile })
        : undefined
      const done = yield* Deferred.make<DistributedTrainResult, TrainingError>()
      // Interruptible whatever the caller's region: a fiber forked from an uninterruptible one (an HTTP
      // request's handler, a finalizer) would otherwise make every fiber of the run uninterruptible,
      // and the center could never stop its background loops.
      yield* Effect.forkScoped(
        Effect.interruptible(Effect.exit(runOf(job, options, hub)).pipe(Effect.flatMap((exit) => Deferred.done(done, exit))))
      )
      return { events: hub.events, result: Deferred.await(done), dashboard } satisfies TrainingRun
    }),

  /** Runs `job` distributed to its end (the events still go to `eventLog` / `plot` when given). */
  runDistributed: (job: CaffeJob, options: DistributedOptions = {}): Effect.Effect<DistributedTrainResult, TrainingError | DashboardError> =>
    Effect.scoped(Effect.flatMap(Training.distributed(job, options), (run) => run.result))
}
