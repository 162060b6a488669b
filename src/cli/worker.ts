/**
 * `deepspark worker`: one trainer of a multi-process / multi-host run, connected to a `deepspark center`.
 * The trainer runs in a supervised child process that is restarted (and resumes) when it dies.
 */
import { accessSync, constants, statSync } from "node:fs"
import { hostname } from "node:os"
import * as path from "node:path"
import { noPositionals, type OptionSpec } from "./argv.js"
import { abortOnSignals } from "./abort-on-signals.js"
import { backendOption } from "./backend-option.js"
import { CliUsageError } from "./command.js"
import { applyMaxMemory, maxMemoryOption } from "./memory-option.js"
import { tlsFilesFrom, tlsOptions } from "./tls-flags.js"
import { MiB, parseAddress, parsePartition, tokenFrom } from "./network-flags.js"
import { standaloneCommand } from "./standalone-command.js"
import type { TrainerSpec } from "../worker/trainer-spec.js"
import { superviseTrainer } from "../worker/worker-supervisor.js"

export const WORKER_USAGE =
  "deepspark worker --connect HOST:PORT -solver S [--partition i/N | --join] [--leave] [--token T | env DEEPSPARK_TOKEN] [--id NAME] " +
  "[--max-iter N] [--period T] [--adaptive-period] [--overlap-exchange] [--seed S] [--weights W] [--backend B] [--heartbeat-every SECONDS] " +
  "[--call-timeout SECONDS] [--max-memory SIZE] [--tls-ca PEM [--tls-cert PEM --tls-key PEM]] [--max-restarts N] [--backoff-ms MS] [--max-message-mb MB] [--stage-from HOST:PORT --stage-to DIR] [--log-file FILE]"

const options: ReadonlyArray<OptionSpec> = [
  { name: "connect", type: "string", value: "HOST:PORT", description: "the center (required)" },
  { name: "solver", type: "string", value: "S", description: "the same solver prototxt as the center's" },
  { name: "synthetic", type: "integer", value: "SEED", description: "train the simulator's softmax problem with this seed instead (needs --max-iter)" },
  { name: "weights", type: "string", value: "W", description: "start from these weights" },
  backendOption,
  maxMemoryOption,
  ...tlsOptions("client"),
  { name: "partition", type: "string", value: "i/N", description: "which of N partitions of the training data this worker reads (0/1)" },
  { name: "token", type: "string", value: "T", description: "the center's token (default $DEEPSPARK_TOKEN)" },
  { name: "id", type: "string", value: "NAME", description: "stable worker id; a restarted worker with the same id resumes (<hostname>-<i>)" },
  { name: "max-iter", type: "integer", min: 0, value: "N", description: "train to this iteration instead of the solver's max_iter" },
  { name: "period", type: "integer", min: 1, value: "T", description: "local iterations between exchanges (50)" },
  { name: "adaptive-period", type: "boolean", description: "DeepSpark's adaptive τ" },
  { name: "overlap-exchange", type: "boolean", description: "downpour, async-diloco: train on while an exchange is in flight" },
  { name: "seed", type: "integer", min: 0, value: "S", description: "the synthetic trainer's seed (100)" },
  { name: "synthetic-iteration-ms", type: "number", min: 0, value: "MS", description: "simulated compute time per iteration of --synthetic (0)" },
  { name: "heartbeat-every", type: "number", min: 0, minExclusive: true, value: "SECONDS", description: "heartbeat interval while computing (5)" },
  { name: "call-timeout", type: "number", min: 0, minExclusive: true, value: "SECONDS", description: "a call to the center unanswered this long fails, and the trainer restarts (120)" },
  { name: "max-restarts", type: "integer", min: 0, value: "N", description: "restart budget of the trainer process (10)" },
  { name: "backoff-ms", type: "integer", min: 0, value: "MS", description: "first restart delay, doubling up to 30 s (500)" },
  { name: "max-message-mb", type: "number", min: 0, minExclusive: true, value: "MB", description: "largest message (512)" },
  { name: "join", type: "boolean", description: "join a running job: the (--elastic) center assigns this worker's records; --partition is not needed" },
  { name: "leave", type: "boolean", description: "on SIGTERM or Ctrl-C, leave the job for good after the current exchange (exit 0; a second signal interrupts)" },
  { name: "stage-from", type: "string", value: "HOST:PORT", description: "stage this worker's partition of the training data from this staging server …" },
  { name: "stage-to", type: "string", value: "DIR", description: "… into DIR, and train on the copy" },
  { name: "log-file", type: "string", value: "FILE", description: "write the trainer's Caffe log (Iteration N …, loss = …) to FILE, as parse_log.py reads it (fresh when it starts at iteration 0)" }
]

const isReadableFile = (file: string): boolean => {
  try {
    accessSync(file, constants.R_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

export const workerCommand = standaloneCommand({ name: "worker", usage: WORKER_USAGE, options }, async (p, io) => {
  noPositionals(p)
  applyMaxMemory(p)
  const connect = p.string("connect")
  if (connect === undefined) throw new CliUsageError("--connect HOST:PORT (the center's address) is required")
  const { host, port } = parseAddress(connect, "connect")
  const partition = parsePartition(p.string("partition") ?? "0/1")
  const solver = p.string("solver")
  const synthetic = p.number("synthetic")
  if ((solver === undefined) === (synthetic === undefined)) throw new CliUsageError("give -solver S (a Caffe solver prototxt)")
  const seed = p.number("seed") ?? 100
  const weights = p.string("weights")
  const backend = p.string("backend")
  const logFile = p.string("log-file")
  if (logFile !== undefined && synthetic !== undefined) throw new CliUsageError("--log-file holds a Caffe solver's log: give -solver S, not --synthetic")
  const spec: TrainerSpec =
    synthetic !== undefined
      ? { kind: "softmax-problem", problemSeed: synthetic, seed, ...(p.number("synthetic-iteration-ms") ? { iterationMs: p.number("synthetic-iteration-ms")! } : {}) }
      : {
          kind: "caffe",
          solverPath: solver!,
          ...(weights ? { weights } : {}),
          ...(backend ? { backend } : {}),
          ...(logFile !== undefined ? { logFile: path.resolve(logFile) } : {})
        }
  const maxIter = p.number("max-iter") ?? 0
  if (synthetic !== undefined && maxIter === 0) throw new CliUsageError("--max-iter N is required with --synthetic")
  const workerId = p.string("id") ?? `${hostname()}-${partition.index}`
  const stageFrom = p.string("stage-from")
  const stageTo = p.string("stage-to")
  if ((stageFrom === undefined) !== (stageTo === undefined))
    throw new CliUsageError("--stage-from HOST:PORT and --stage-to DIR go together (the staging server, and where the staged partitions go)")
  if (stageFrom !== undefined && synthetic !== undefined) throw new CliUsageError("--stage-from stages a Caffe net's training data: give -solver S, not --synthetic")
  if (stageFrom !== undefined && p.flag("join"))
    throw new CliUsageError("--join reads the records an elastic center assigns, which change during the run: it cannot train on a staged partition (--stage-from)")
  const staging = stageFrom !== undefined ? { ...parseAddress(stageFrom, "stage-from"), dir: stageTo! } : undefined
  const tls = tlsFilesFrom(p, "client")
  // A solver that is not there is a configuration error: say so once and exit 3 (restarting cannot help),
  // before any trainer process starts.
  if (solver !== undefined && !isReadableFile(solver)) {
    io.stderr(`deepspark worker: solver ${solver}: no such readable file (from ${process.cwd()})`)
    return 3
  }
  // --leave: the first SIGTERM / SIGINT asks the trainer to leave after its current exchange; the
  // second interrupts as usual.
  const leave = p.flag("leave") ? new AbortController() : undefined
  const leaveOnSignal = () => {
    io.stdout(`worker ${workerId}: leaving the job after the current exchange (a second signal interrupts)`)
    leave!.abort()
    process.once("SIGINT", interrupt)
    process.once("SIGTERM", interrupt)
  }
  const interruptions = new AbortController()
  const interrupt = () => interruptions.abort()
  const signals = leave ? { signal: interruptions.signal, dispose: () => {} } : abortOnSignals()
  if (leave) {
    process.once("SIGINT", leaveOnSignal)
    process.once("SIGTERM", leaveOnSignal)
  }
  try {
    const outcome = await superviseTrainer({
      remote: {
        host,
        port,
        assignment: {
          workerId,
          token: tokenFrom(p, process.env) ?? "",
          partition,
          period: p.number("period") ?? 50,
          maxIter,
          adaptivePeriod: p.flag("adaptive-period"),
          ...(p.flag("overlap-exchange") ? { overlapExchange: true } : {}),
          ...(p.flag("join") ? { join: true } : {}),
          spec
        },
        heartbeatEveryMs: (p.number("heartbeat-every") ?? 5) * 1000,
        callTimeoutMs: (p.number("call-timeout") ?? 120) * 1000,
        maxMessageBytes: Math.round((p.number("max-message-mb") ?? 512) * MiB),
        ...(staging !== undefined ? { staging } : {}),
        ...(tls !== undefined ? { tls } : {})
      },
      maxRestarts: p.number("max-restarts") ?? 10,
      backoffMs: p.number("backoff-ms") ?? 500,
      log: (line) => io.stdout(line),
      signal: signals.signal,
      ...(leave ? { leave: leave.signal } : {})
    })
    if (outcome.status === "done") return 0
    if (outcome.status === "aborted") return 130
    io.stderr(
      outcome.status === "rejected"
        ? `worker ${workerId}: stopped for good (see the message above); restarting cannot help`
        : `worker ${workerId}: gave up after ${outcome.restarts} restarts`
    )
    return outcome.status === "rejected" ? 3 : 1
  } finally {
    signals.dispose()
    for (const h of [leaveOnSignal, interrupt]) {
      process.off("SIGINT", h)
      process.off("SIGTERM", h)
    }
  }
})
