/**
 * `deepspark train`: Caffe's `caffe train -solver S [-weights W | -snapshot S.solverstate]`.
 * SIGINT stops after the current iteration with a snapshot (Caffe's default -sigint_effect stop),
 * SIGHUP snapshots and goes on (-sighup_effect snapshot); a second SIGINT exits at once.
 */
import {
  chooseBackend,
  createTrainingSession,
  GlogLogger,
  loadWeights,
  openGpuDevice,
  resumeFrom,
  usableAdapters,
  type SolverAction
} from "@deepspark/engine"
import * as path from "node:path"
import { describeOptions, helpOption, noPositionals, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliCommand, type CliIo } from "./command.js"
import { backendOption, cpuThreads, cpuThreadsOption } from "./backend-option.js"
import { gpuOption, gpuRequest } from "./gpu-option.js"
import { applyMaxMemory, maxMemoryOption } from "./memory-option.js"
import { weightFiles } from "./net-options.js"
import { dashboardLine, dashboardSettings } from "./dashboard-option.js"
import { distributedOptions, isDistributed, runTrainDistributed } from "./train-distributed.js"

const options: ReadonlyArray<OptionSpec> = [
  { name: "solver", type: "string", value: "FILE", description: "the solver prototxt (required)" },
  { name: "weights", type: "string", value: "A.caffemodel[,B...]", description: "fine-tune: copy layers by name from these weights" },
  { name: "snapshot", type: "string", value: "FILE.solverstate", description: "resume training from a solver state" },
  { name: "iterations", type: "integer", min: 0, value: "N", description: "train to iteration N instead of the solver's max_iter" },
  { name: "level", type: "integer", value: "N", description: "train_state level" },
  { name: "stage", type: "strings", value: "NAME", description: "add a train_state stage" },
  { name: "sigint-effect", type: "string", value: "stop|snapshot|none", description: "what SIGINT does (default stop)" },
  { name: "sighup-effect", type: "string", value: "stop|snapshot|none", description: "what SIGHUP does (default snapshot)" },
  backendOption,
  gpuOption,
  cpuThreadsOption,
  maxMemoryOption,
  helpOption,
  ...distributedOptions
]

const help = [
  "usage: deepspark train --solver FILE [--weights A.caffemodel[,B...] | --snapshot FILE.solverstate] [--iterations N]",
  "       deepspark train --solver FILE --workers N [--rule R --period τ --moving-rate α ...]",
  "",
  "Trains as `caffe train` does, logging Caffe's lines (glog format, on stderr). Paths in the solver",
  "resolve from the working directory, as in Caffe. With --workers (or any distributed flag) the data is",
  "split into N partitions, one trainer per partition trains in a worker thread, and the center variable",
  "merges their work by asynchronous elastic averaging (DeepSpark); the center is tested like a Caffe net",
  "and snapshotted as <snapshot_prefix>_iter_<max_iter>.caffemodel.",
  "",
  ...describeOptions(options)
]

const action = (value: string | undefined, flag: string, fallback: SolverAction): SolverAction => {
  if (value === undefined) return fallback
  if (value === "stop" || value === "snapshot" || value === "none") return value
  throw new CliUsageError(`--${flag} takes stop, snapshot or none, got '${value}'`)
}

/** Turns SIGINT/SIGHUP into solver actions, polled by the solver after each iteration. */
const signalActions = (sigint: SolverAction, sighup: SolverAction) => {
  const pending: SolverAction[] = []
  let interrupts = 0
  const onInt = () => {
    if (++interrupts > 1) process.exit(130)
    pending.push(sigint)
  }
  const onHup = () => void pending.push(sighup)
  process.on("SIGINT", onInt)
  process.on("SIGHUP", onHup)
  return {
    requestedAction: (): SolverAction => pending.shift() ?? "none",
    dispose: () => {
      process.off("SIGINT", onInt)
      process.off("SIGHUP", onHup)
    }
  }
}

export const runTrain = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const p = parseOptions(argv, options)
  applyMaxMemory(p)
  if (p.flag("help")) {
    for (const l of help) io.stdout(l)
    return 0
  }
  noPositionals(p)
  const solverFile = p.string("solver")
  if (solverFile === undefined) throw new CliUsageError("Need a solver definition to train (--solver FILE)")
  const weights = p.string("weights")
  const snapshot = p.string("snapshot")
  const iterations = p.number("iterations")
  const backendName = p.string("backend")
  if (weights !== undefined && snapshot !== undefined) {
    throw new CliUsageError("Give a snapshot to resume training or weights to finetune but not both.")
  }
  const gpu = gpuRequest(p.string("gpu"), backendName)
  // -gpu all / -gpu 0,1: one trainer per GPU, merged by the center (local mode), when there are several.
  const gpus = gpu.kind === "all" ? (await usableAdapters()).map((_, i) => i) : gpu.kind === "list" ? gpu.indices : []
  if (gpus.length > 1 && !isDistributed(p.options)) {
    if (snapshot !== undefined) throw new CliUsageError("-gpu with several GPUs trains distributed: resume from a center checkpoint with --resume FILE.dsstate, not --snapshot")
    return runTrainDistributed(new Map([...p.options, ["workers", gpus.length]]), io, {
      solverFile,
      ...(weights !== undefined ? { weights } : {}),
      ...(iterations !== undefined ? { iterations } : {}),
      backend: `gpu:${gpus.join(",")}`
    })
  }
  if (isDistributed(p.options)) {
    if (p.number("cpu-threads") !== undefined)
      throw new CliUsageError("--cpu-threads is for a lone trainer: the trainers of a distributed run take one core each")
    if (snapshot !== undefined) throw new CliUsageError("a distributed run resumes from a center checkpoint: use --resume FILE.dsstate, not --snapshot")
    return runTrainDistributed(p.options, io, {
      solverFile,
      ...(weights !== undefined ? { weights } : {}),
      ...(iterations !== undefined ? { iterations } : {}),
      ...(gpus.length > 0 ? { backend: `gpu:${gpus.join(",")}` } : backendName !== undefined ? { backend: backendName } : {})
    })
  }
  if (p.string("log-dir") !== undefined)
    throw new CliUsageError("--log-dir is where the workers' Caffe logs go (with --workers N); a single solver logs to stderr, as caffe train does: redirect it (2> FILE)")
  const sigint = action(p.string("sigint-effect"), "sigint-effect", "stop")
  const sighup = action(p.string("sighup-effect"), "sighup-effect", "snapshot")
  const cwd = io.cwd ?? process.cwd()
  // --event-log / --plot on a single solver: its Caffe lines become the run's events (as parse_log.py
  // reads them). Loaded only then: the Effect runtime costs a plain `train` RSS it otherwise never uses.
  const eventLog = p.string("event-log")
  const plot = p.string("plot")
  const dashboardFlag = p.string("dashboard")
  const dashboard = dashboardFlag !== undefined ? dashboardSettings(dashboardFlag, p.string("dashboard-token"), process.env) : undefined
  const observers =
    eventLog !== undefined || plot !== undefined || dashboard !== undefined
      ? await (await import("../observe/solver-run-observers.js")).startSolverRunObservers({
          solver: solverFile,
          ...(eventLog !== undefined ? { eventLog: path.resolve(cwd, eventLog) } : {}),
          ...(plot !== undefined ? { plot: path.resolve(cwd, plot) } : {}),
          ...(dashboard !== undefined ? { dashboard } : {})
        })
      : undefined
  const log = new GlogLogger((line) => {
    io.stderr(line)
    observers?.feed(line)
  })
  if (eventLog !== undefined) log.info(`Writing the event log to ${path.resolve(cwd, eventLog)} (a fresh file for this run)`)
  if (observers?.dashboardUrl !== undefined) log.info(dashboardLine(observers.dashboardUrl, dashboard?.token !== undefined))
  if (plot !== undefined) log.info(`Plotting the run to ${path.resolve(cwd, plot)} (redrawn after each test and at the end)`)
  const trainSingle = async (): Promise<number> => {
    // On the GPU the host net runs only the source layers (cpu kernels); every other layer runs on the device.
    // Alone on the machine: large GEMMs may use every core (a distributed run's trainers take one each).
    const backend = await chooseBackend(gpus.length > 0 ? "cpu" : backendName, log, { cpuThreads: cpuThreads(p, true) })
    const device = gpus.length > 0 ? await openGpuDevice(gpus[0]!, log) : undefined
    log.info(device ? `Use backend gpu: device-resident WebGPU kernels on ${device.adapter.description}` : `Use backend ${backend.name}: ${backend.description}`)
    const signals = signalActions(sigint, sighup)
    try {
      const level = p.number("level")
      const stages = p.strings("stage")
      const session = await createTrainingSession({
        solverFile,
        cwd,
        backend,
        ...(device ? { device } : {}),
        log,
        requestedAction: signals.requestedAction,
        ...(iterations !== undefined ? { maxIter: iterations } : {}),
        ...(level !== undefined ? { level } : {}),
        ...(stages.length > 0 ? { stages } : {})
      })
      try {
        if (snapshot !== undefined) resumeFrom(session, snapshot, log, cwd)
        else if (weights !== undefined) loadWeights(session, weightFiles(weights), log, cwd)
        log.info("Starting Optimization")
        await session.solver.solveAsync()
        log.info("Optimization Done.")
      } finally {
        await session.close()
      }
    } finally {
      signals.dispose()
      device?.destroy()
      await backend.dispose?.()
    }
    return 0
  }
  try {
    return await trainSingle()
  } finally {
    await observers?.finish()
  }
}

export const trainCommand: CliCommand = {
  name: "train",
  summary: "train a net from a solver prototxt (caffe train; --weights to fine-tune, --snapshot to resume)",
  run: runTrain
}
