/**
 * `deepspark worker`: one trainer of a multi-process / multi-host run, connected to a `deepspark center`.
 * The trainer runs in a supervised child process that is restarted (and resumes) when it dies.
 */
import { hostname } from "node:os"
import { abortOnSignals, MiB, parseAddress, parseFlags, parsePartition, runCommand, tokenFrom, UsageError, type Command } from "../remote/args.js"
import type { TrainerSpec } from "../local/trainer-spec.js"
import { superviseTrainer } from "../remote/worker-supervisor.js"

export const WORKER_USAGE =
  "deepspark worker --connect HOST:PORT -solver S [--partition i/N] [--token T | env DEEPSPARK_TOKEN] [--id NAME] " +
  "[--max-iter N] [--period T] [--adaptive-period] [--seed S] [--weights W] [--backend B] [--heartbeat-every SECONDS] " +
  "[--call-timeout SECONDS] [--max-restarts N] [--backoff-ms MS] [--max-message-mb MB] [--stage-from HOST:PORT --stage-to DIR]"

const valued = [
  "connect",
  "solver",
  "synthetic",
  "weights",
  "backend",
  "partition",
  "token",
  "id",
  "max_iter",
  "period",
  "seed",
  "heartbeat_every",
  "call_timeout",
  "max_restarts",
  "backoff_ms",
  "max_message_mb",
  "stage_from",
  "stage_to"
]

export const workerCommand: Command = (argv, io) =>
  runCommand(io, WORKER_USAGE, async () => {
    const flags = parseFlags(argv, valued, ["adaptive_period"])
    const connect = flags.string("connect")
    if (connect === undefined) throw new UsageError("--connect HOST:PORT (the center's address) is required")
    const { host, port } = parseAddress(connect, "connect")
    const partition = parsePartition(flags.string("partition") ?? "0/1")
    const solver = flags.string("solver")
    const synthetic = flags.string("synthetic")
    if ((solver === undefined) === (synthetic === undefined)) throw new UsageError("give -solver S (a Caffe solver prototxt)")
    const seed = flags.int("seed", 100)
    const weights = flags.string("weights")
    const backend = flags.string("backend")
    const spec: TrainerSpec =
      synthetic !== undefined
        ? { kind: "softmax-problem", problemSeed: Number(synthetic), seed }
        : { kind: "caffe", solverPath: solver!, ...(weights ? { weights } : {}), ...(backend ? { backend } : {}) }
    const maxIter = flags.int("max_iter", 0)
    if (synthetic !== undefined && maxIter === 0) throw new UsageError("--max-iter N is required with --synthetic")
    const workerId = flags.string("id") ?? `${hostname()}-${partition.index}`
    const stageFrom = flags.string("stage_from")
    const stageTo = flags.string("stage_to")
    if ((stageFrom === undefined) !== (stageTo === undefined))
      throw new UsageError("--stage-from HOST:PORT and --stage-to DIR go together (the staging server, and where the staged partitions go)")
    if (stageFrom !== undefined && synthetic !== undefined) throw new UsageError("--stage-from stages a Caffe net's training data: give -solver S, not --synthetic")
    const staging = stageFrom !== undefined ? { ...parseAddress(stageFrom, "stage-from"), dir: stageTo! } : undefined
    const signals = abortOnSignals()
    try {
      const outcome = await superviseTrainer({
        remote: {
          host,
          port,
          assignment: {
            workerId,
            token: tokenFrom(flags, process.env) ?? "",
            partition,
            period: flags.int("period", 50, 1),
            maxIter,
            adaptivePeriod: flags.has("adaptive_period"),
            spec
          },
          heartbeatEveryMs: flags.number("heartbeat_every", 5) * 1000,
          callTimeoutMs: flags.number("call_timeout", 120) * 1000,
          maxMessageBytes: Math.round(flags.number("max_message_mb", 512) * MiB),
          ...(staging !== undefined ? { staging } : {})
        },
        maxRestarts: flags.int("max_restarts", 10),
        backoffMs: flags.int("backoff_ms", 500),
        log: (line) => io.stdout(line),
        signal: signals.signal
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
    }
  })
