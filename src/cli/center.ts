/**
 * `deepspark center`: the parameter server of a multi-process / multi-host run. Serves x̃ over TCP to
 * `deepspark worker` processes (see docs/distributed.md).
 */
import { GlogLogger } from "@deepspark/engine"
import * as path from "node:path"
import { noPositionals, type OptionSpec } from "./argv.js"
import { abortOnSignals } from "./abort-on-signals.js"
import { CliUsageError } from "./command.js"
import { applyMaxMemory, maxMemoryOption } from "./memory-option.js"
import { tlsFilesFrom, tlsOptions } from "./tls-flags.js"
import { easgdSettingOptions, easgdSettingValues, ruleOption } from "./easgd-options.js"
import { isLoopbackHost, MiB, parseAddress, tokenFrom } from "./network-flags.js"
import { standaloneCommand } from "./standalone-command.js"
import { dashboardLine, dashboardOption, dashboardSettings, dashboardTokenOption } from "./dashboard-option.js"
import { defaultEasgdSettings, makeEasgdSettings } from "../easgd/settings.js"

export const CENTER_USAGE =
  "deepspark center -solver S --listen HOST:PORT [--token T | env DEEPSPARK_TOKEN] [--workers N] [--elastic] [--checkpoint-every K] " +
  "[--checkpoint-prefix P] [--resume STATE.dsstate] [--max-exchanges M] [--test-interval K] [--heartbeat-timeout SECONDS] " +
  "[--max-message-mb MB] [--max-memory SIZE] [--tls-cert PEM --tls-key PEM [--tls-ca PEM]] [--display K] [--weights W] [--serve-data HOST:PORT] [--dashboard [HOST:]PORT [--dashboard-token T]] [--event-log E.jsonl] [--plot P.svg] [--rule R --period T --moving-rate A …]"

export const DEFAULT_LISTEN = "127.0.0.1:7077"

const options: ReadonlyArray<OptionSpec> = [
  { name: "solver", type: "string", value: "S", description: "Caffe solver prototxt: x̃ starts from its net's fillers (or --weights), is tested with its test nets" },
  { name: "synthetic", type: "integer", value: "SEED", description: "serve the simulator's softmax problem with this seed instead of a solver (tests, benchmarks)" },
  { name: "weights", type: "string", value: "W", description: "start x̃ from these weights" },
  { name: "backend", type: "string", value: "cpu|gpu|reference", description: "kernels of the test nets (gpu: the host's cpu kernels; the GPUs are the trainers')" },
  maxMemoryOption,
  ...tlsOptions("server"),
  { name: "listen", type: "string", value: "HOST:PORT", description: `address to serve (${DEFAULT_LISTEN}); a non-loopback address requires a token` },
  { name: "token", type: "string", value: "T", description: "shared secret every request must carry (default $DEEPSPARK_TOKEN; none: loopback only)" },
  { name: "workers", type: "integer", min: 1, value: "N", description: "planned workers: the decay schedule's N and a named rule's defaults for N; the run ends when N workers have finished (1)" },
  { name: "elastic", type: "boolean", description: "workers may join (worker --join) and leave (worker --leave) during the run; the center assigns their records" },
  { name: "checkpoint-every", type: "integer", min: 0, value: "K", description: "checkpoint x̃ every K exchanges (0: only when the run ends or is interrupted)" },
  { name: "checkpoint-prefix", type: "string", value: "P", description: "checkpoint files P_exchange_<n>.<model> + .dsstate (default: the solver's snapshot_prefix)" },
  { name: "resume", type: "string", value: "STATE.dsstate", description: "restore x̃ and the bookkeeping from a checkpoint and continue" },
  { name: "max-exchanges", type: "integer", min: 0, value: "M", description: "stop after M exchanges in all, counting those before a resume (0: never)" },
  { name: "test-interval", type: "integer", min: 0, value: "K", description: "test x̃ every K exchanges (0: at the end only)" },
  { name: "heartbeat-timeout", type: "number", min: 0, minExclusive: true, value: "SECONDS", description: "drop a worker not heard from for this long (60)" },
  { name: "max-message-mb", type: "number", min: 0, minExclusive: true, value: "MB", description: "largest accepted message (512)" },
  { name: "display", type: "integer", min: 0, value: "K", description: "log one exchange line every K exchanges (100)" },
  { name: "serve-data", type: "string", value: "HOST:PORT", description: "also serve partitions of the databases under the working directory to workers that stage them" },
  dashboardOption,
  dashboardTokenOption,
  { name: "event-log", type: "string", value: "FILE", description: "write the run's events as JSON lines (a fresh file per run)" },
  { name: "plot", type: "string", value: "FILE.svg", description: "keep a loss/accuracy plot of the run (redrawn after each test, during the run, and at the end)" },
  // The center's default rule does not depend on --workers (see below).
  ...easgdSettingOptions.map((o) => (o.name === "rule" ? ruleOption(defaultEasgdSettings.rule) : o))
]

export const centerCommand = standaloneCommand({ name: "center", usage: CENTER_USAGE, options }, async (p, io) => {
  noPositionals(p)
  applyMaxMemory(p)
  const listen = parseAddress(p.string("listen") ?? DEFAULT_LISTEN, "listen")
  const token = tokenFrom(p, process.env)
  if (!token && !isLoopbackHost(listen.host))
    throw new CliUsageError(`refusing to listen on ${listen.host} without a token: give --token T or set DEEPSPARK_TOKEN`)
  const tls = tlsFilesFrom(p, "server")
  const serveDataFlag = p.string("serve-data")
  const serveData = serveDataFlag !== undefined ? parseAddress(serveDataFlag, "serve-data") : undefined
  if (serveData !== undefined && !token && !isLoopbackHost(serveData.host))
    throw new CliUsageError(`refusing to serve data on ${serveData.host} without a token: give --token T or set DEEPSPARK_TOKEN`)
  // A named rule gets its defaults for the planned workers (async-diloco's outer momentum). With none
  // named the rule stays downpour whatever N: train's choice from 4 workers, sync-sgd, is period 1 and
  // lr × N, while `deepspark worker` processes run their own --period and their solver's lr as given.
  const settingValues = easgdSettingValues(p)
  const settings = makeEasgdSettings(settingValues, settingValues["rule"] !== undefined ? { workers: p.number("workers") ?? 1 } : {})
  const dashboardFlag = p.string("dashboard")
  const dashboard = dashboardFlag !== undefined ? dashboardSettings(dashboardFlag, p.string("dashboard-token"), process.env) : undefined
  const solver = p.string("solver")
  const synthetic = p.number("synthetic")
  if ((solver === undefined) === (synthetic === undefined)) throw new CliUsageError("give -solver S (a Caffe solver prototxt)")
  // Loaded here, not at the top, so that parsing errors come back without loading the runtime.
  const { runCenter } = await import("../center/run-center.js")
  // glog lines, as Caffe's tools and the other commands write them; the center's Effect.log lines too.
  const glog = new GlogLogger((line) => io.stdout(line))
  const log = (line: string) => glog.info(line, "center")
  const { effectLoggerLayerVia } = await import("../observe/glog-effect-logger.js")
  const weights = p.string("weights")
  const backend = p.string("backend")
  const job =
    synthetic !== undefined
      ? (await import("../simulator/synthetic-center-job.js")).syntheticCenterJob({ problemSeed: synthetic })
      : await (await import("../center/caffe-job-with-evaluator.js")).caffeCenterJob({ solverPath: solver!, log, ...(weights ? { weights } : {}), ...(backend ? { backend } : {}) })
  const signals = abortOnSignals()
  let observers: Awaited<ReturnType<typeof import("../observe/solver-run-observers.js").startSolverRunObservers>> | undefined
  // However the run ends (finished, interrupted, a bad --resume), the job's evaluator thread goes with
  // it: otherwise it keeps the process alive after the command has returned.
  try {
    const prefix = p.string("checkpoint-prefix") ?? job.defaultCheckpointPrefix
    if (prefix === undefined && p.has("checkpoint-every")) throw new CliUsageError("--checkpoint-every needs --checkpoint-prefix P (where to write)")
    const resume = p.string("resume")
    if (!token) log("Warning: no token given; only processes on this machine can reach this center (loopback)")
    const eventLog = p.string("event-log")
    const plot = p.string("plot")
    observers =
      dashboard !== undefined || eventLog !== undefined || plot !== undefined
        ? await (await import("../observe/solver-run-observers.js")).startSolverRunObservers({
            solver: solver ?? "synthetic",
            workers: p.number("workers") ?? 1,
            rule: settings.rule,
            ...(dashboard !== undefined ? { dashboard } : {}),
            ...(eventLog !== undefined ? { eventLog: path.resolve(eventLog) } : {}),
            ...(plot !== undefined ? { plot: path.resolve(plot) } : {}),
            title: `center: ${solver ?? "synthetic"}`
          })
        : undefined
    if (observers?.dashboardUrl !== undefined) log(dashboardLine(observers.dashboardUrl, dashboard?.token !== undefined))
    if (eventLog !== undefined) log(`Writing the event log to ${path.resolve(eventLog)} (a fresh file for this run)`)
    if (plot !== undefined) log(`Plotting the run to ${path.resolve(plot)} (redrawn after each test and at the end)`)
    const observed = observers ? (await import("../observe/center-run-observers.js")).observeCenter(observers.hub, job) : undefined
    const result = await runCenter({
      job: observed?.job ?? job,
      ...(observed ? { onEvent: observed.onEvent } : {}),
      token: token ?? "",
      host: listen.host,
      port: listen.port,
      settings,
      workers: p.number("workers") ?? 1,
      ...(p.flag("elastic") ? { elastic: true } : {}),
      maxExchanges: p.number("max-exchanges") ?? 0,
      checkpointEvery: p.number("checkpoint-every") ?? 0,
      ...(prefix !== undefined ? { checkpointPrefix: prefix } : {}),
      ...(resume !== undefined ? { resume } : {}),
      testInterval: p.number("test-interval") ?? 0,
      heartbeatTimeoutMs: (p.number("heartbeat-timeout") ?? 60) * 1000,
      maxMessageBytes: Math.round((p.number("max-message-mb") ?? 512) * MiB),
      display: p.number("display") ?? 100,
      ...(serveData !== undefined ? { serveData } : {}),
      ...(tls !== undefined ? { tls } : {}),
      log,
      effectLogger: effectLoggerLayerVia(glog),
      signal: signals.signal
    })
    if (result.checkpoint) log(`Last checkpoint: ${result.checkpoint}`)
    return result.reason === "interrupted" ? 130 : 0
  } finally {
    signals.dispose()
    await job.close?.()
    await observers?.finish()
  }
})
