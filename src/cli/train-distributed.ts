/**
 * `deepspark train -solver S --workers N [...]`: DeepSpark's distributed training in local mode — one
 * trainer per partition in worker threads, the center variable in this process, asynchronous elastic
 * averaging between them. A thin shell over `runLocalDistributedTrain`.
 */
import { GlogLogger } from "@deepspark/engine"
import { Effect } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import type { OptionSpec, OptionValue } from "./argv.js"
import { CliUsageError, type CliIo } from "./command.js"
import { ruleByName } from "../easgd/rule-registry.js"
import { readEasgdSettingsFile } from "../easgd/settings-file.js"
import { easgdSettingOptions, easgdSettingValues } from "./easgd-options.js"
import { clusterPoolFrom, clusterTrainOptions } from "./train-cluster.js"
import { dashboardLine, dashboardOption, dashboardSettings, dashboardTokenOption } from "./dashboard-option.js"

export const distributedOptions: ReadonlyArray<OptionSpec> = [
  { name: "workers", type: "number", value: "N", description: "train with N workers (local mode: worker threads; default one per core)" },
  { name: "settings", type: "string", value: "FILE", description: "DeepSpark settings file (deepspark.prototxt style); flags override it" },
  ...easgdSettingOptions,
  { name: "resume", type: "string", value: "FILE.dsstate", description: "continue from a center checkpoint" },
  { name: "test-interval", type: "number", value: "N", description: "test the center every N exchanges (default: the solver's test_interval in worker iterations)" },
  { name: "checkpoint-every", type: "number", value: "N", description: "checkpoint the center every N exchanges (default: the solver's snapshot interval)" },
  { name: "event-log", type: "string", value: "FILE", description: "write the run's events as JSON lines (a fresh file per run)" },
  { name: "plot", type: "string", value: "FILE.svg", description: "keep a loss/accuracy plot of the run (redrawn after each test and at the end)" },
  { name: "evaluator-nice", type: "number", value: "N", description: "nice value of the center's test thread (default 0; raise it where the center shares a loaded host)" },
  dashboardOption,
  dashboardTokenOption,
  { name: "verbose-workers", type: "boolean", description: "also print each worker's own Caffe log on stderr, prefixed" },
  { name: "log-dir", type: "string", value: "DIR", description: "write each worker's Caffe log to DIR/<prefix>.worker<i>.log (default: beside the snapshot prefix; with --cluster-db on the trainer's runner host, under the job's working directory)" },
  { name: "crash-worker", type: "string", value: "I@ITER", description: "fault injection: worker I crashes once at iteration ITER" },
  ...clusterTrainOptions
]

/** Flags that observe a run, whichever it is: they never make a single solver's run distributed. */
const observingFlags = new Set(["workers", "event-log", "plot", "dashboard", "dashboard-token", "log-dir"])

export const isDistributed = (o: ReadonlyMap<string, OptionValue>): boolean =>
  distributedOptions.some((s) => !observingFlags.has(s.name) && o.has(s.name.replaceAll("-", "_"))) || o.has("workers")

export const runTrainDistributed = async (
  o: ReadonlyMap<string, OptionValue>,
  io: CliIo,
  common: { solverFile: string; weights?: string; iterations?: number; backend?: string }
): Promise<number> => {
  const workers = (o.get("workers") as number | undefined) ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length)
  if (!Number.isInteger(workers) || workers < 1) throw new CliUsageError(`--workers must be a positive integer, got ${workers}`)
  const cwd = io.cwd ?? process.cwd()
  const overrides = easgdSettingValues(o)
  const settingsFile = o.get("settings") as string | undefined
  const settings = readEasgdSettingsFile(settingsFile ? path.resolve(cwd, settingsFile) : undefined, overrides, workers)
  if (ruleByName(settings.rule).singleWorker && workers !== 1) throw new CliUsageError(`--rule ${settings.rule} trains with one worker, got --workers ${workers}`)
  const crash = o.get("crash_worker") as string | undefined
  let crashSpec: { worker: number; atIteration: number } | undefined
  if (crash !== undefined) {
    const m = /^(\d+)@(\d+)$/.exec(crash)
    if (!m) throw new CliUsageError(`--crash-worker takes I@ITER, got '${crash}'`)
    crashSpec = { worker: Number(m[1]), atIteration: Number(m[2]) }
  }
  const log = new GlogLogger((line) => io.stderr(line))
  const resume = o.get("resume") as string | undefined
  const eventLog = o.get("event_log") as string | undefined
  const plot = o.get("plot") as string | undefined
  const testInterval = o.get("test_interval") as number | undefined
  const checkpointEvery = o.get("checkpoint_every") as number | undefined
  const evaluatorNiceness = o.get("evaluator_nice") as number | undefined
  if (evaluatorNiceness !== undefined && !(Number.isInteger(evaluatorNiceness) && evaluatorNiceness >= -20 && evaluatorNiceness <= 19))
    throw new CliUsageError(`--evaluator-nice must be an integer from -20 to 19, got ${evaluatorNiceness}`)
  const dashboardFlag = o.get("dashboard") as string | undefined
  const dashboard = dashboardFlag !== undefined ? dashboardSettings(dashboardFlag, o.get("dashboard_token") as string | undefined, process.env) : undefined
  // Loaded here, not at the top: the distributed runtime (RPC, transports, the center) costs a plain
  // `deepspark train` ~50 MB of RSS it never uses.
  const { runDistributedTrain, runLocalDistributedTrain } = await import("../driver/distributed-train.js")
  // --cluster-db: the trainers live on @effect/cluster runners; otherwise in worker threads.
  const clusterPool = await clusterPoolFrom(o, (line) => log.info(line))
  const run = (options: Parameters<typeof runDistributedTrain>[0]) =>
    clusterPool ? runDistributedTrain(options).pipe(Effect.provide(clusterPool)) : runLocalDistributedTrain(options)
  const { makeRunEventHub } = await import("../observe/run-event-hub.js")
  // The center's own Effect.log lines come out as this command's glog lines, on the same stream.
  const { effectLoggerLayerVia } = await import("../observe/glog-effect-logger.js")
  const { serveDashboard } = dashboard ? await import("../observe/dashboard/dashboard-server.js") : { serveDashboard: undefined }
  const result = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const events = yield* makeRunEventHub()
        if (dashboard && serveDashboard) {
          const served = yield* serveDashboard(events, { ...dashboard, title: `${common.solverFile}: ${workers} workers, ${settings.rule}` }).pipe(Effect.orDie)
          log.info(dashboardLine(served.url, dashboard.token !== undefined))
        }
        return yield* run({
        events,
        solverFile: common.solverFile,
        cwd,
        workers,
        settings,
        log,
        testLog: (line) => io.stderr(line),
        ...(common.backend ? { backend: common.backend } : {}),
        ...(common.weights ? { weights: common.weights } : {}),
        ...(common.iterations !== undefined ? { maxIter: common.iterations } : {}),
        ...(resume ? { resume } : {}),
        ...(evaluatorNiceness !== undefined ? { evaluatorNiceness } : {}),
        ...(eventLog ? { eventLog: path.resolve(cwd, eventLog) } : {}),
        ...(plot ? { plot: path.resolve(cwd, plot) } : {}),
        ...(testInterval !== undefined ? { testInterval } : {}),
        ...(checkpointEvery !== undefined ? { checkpointEvery } : {}),
        ...(o.get("verbose_workers") ? { verboseWorkers: true } : {}),
        ...(o.get("log_dir") !== undefined ? { workerLogs: { dir: o.get("log_dir") as string } } : {}),
        ...(crashSpec ? { crash: crashSpec } : {})
        })
      })
    ).pipe(Effect.provide(effectLoggerLayerVia(log)))
  )
  if (result.diverged) {
    io.stdout(
      `center: diverged at iteration ≈ ${result.diverged.iteration} (exchange ${result.diverged.exchanges}): ${result.diverged.reason}; ` +
        `the run was stopped and its snapshot ${path.relative(cwd, result.snapshot.caffemodel)} is not a result`
    )
    return 1
  }
  const acc = result.finalTest?.[0]?.outputs.find((x) => /accuracy/i.test(x.name))?.value
  io.stdout(
    `center: ${result.exchanges} exchanges in ${result.seconds.toFixed(1)} s` +
      (acc !== undefined ? `, test accuracy ${acc.toFixed(4)}` : "") +
      `; snapshot ${path.relative(cwd, result.snapshot.caffemodel)}`
  )
  return 0
}
