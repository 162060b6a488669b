/**
 * `deepspark center`: the parameter server of a multi-process / multi-host run. Serves x̃ over TCP to
 * `deepspark worker` processes (see docs/distributed.md).
 */
import { isLoopbackHost, MiB, parseAddress, parseFlags, runCommand, tokenFrom, UsageError, abortOnSignals, type Command } from "../remote/args.js"
import { makeEasgdSettings, settingNames } from "../easgd/settings.js"

export const CENTER_USAGE =
  "deepspark center -solver S --listen HOST:PORT [--token T | env DEEPSPARK_TOKEN] [--workers N] [--checkpoint-every K] " +
  "[--checkpoint-prefix P] [--resume STATE.dsstate] [--max-exchanges M] [--test-interval K] [--heartbeat-timeout SECONDS] " +
  "[--max-message-mb MB] [--display K] [--weights W] [--serve-data HOST:PORT] [--rule R --period T --moving-rate A …]"

const valued = [
  "solver",
  "synthetic",
  "weights",
  "backend",
  "listen",
  "token",
  "workers",
  "checkpoint_every",
  "checkpoint_prefix",
  "resume",
  "max_exchanges",
  "test_interval",
  "heartbeat_timeout",
  "max_message_mb",
  "display",
  "serve_data",
  ...settingNames.filter((n) => n !== "adaptive_period")
]

export const DEFAULT_LISTEN = "127.0.0.1:7077"

export const centerCommand: Command = (argv, io) =>
  runCommand(io, CENTER_USAGE, async () => {
    const flags = parseFlags(argv, valued, ["adaptive_period"])
    const listen = parseAddress(flags.string("listen") ?? DEFAULT_LISTEN, "listen")
    const token = tokenFrom(flags, process.env)
    if (!token && !isLoopbackHost(listen.host))
      throw new UsageError(`refusing to listen on ${listen.host} without a token: give --token T or set DEEPSPARK_TOKEN`)
    const serveDataFlag = flags.string("serve_data")
    const serveData = serveDataFlag !== undefined ? parseAddress(serveDataFlag, "serve-data") : undefined
    if (serveData !== undefined && !token && !isLoopbackHost(serveData.host))
      throw new UsageError(`refusing to serve data on ${serveData.host} without a token: give --token T or set DEEPSPARK_TOKEN`)
    const settingValues: Record<string, string | boolean> = {}
    for (const name of settingNames) {
      const v = flags.values.get(name)
      if (v !== undefined) settingValues[name] = v
    }
    const settings = makeEasgdSettings(settingValues)
    const solver = flags.string("solver")
    const synthetic = flags.string("synthetic")
    if ((solver === undefined) === (synthetic === undefined)) throw new UsageError("give -solver S (a Caffe solver prototxt)")
    // Loaded here, not at the top, so that parsing errors come back without loading the runtime.
    const { syntheticCenterJob, caffeCenterJob } = await import("../remote/center-job.js")
    const { runCenter } = await import("../remote/run-center.js")
    const log = (line: string) => io.stdout(line)
    let job
    if (synthetic !== undefined) {
      const seed = Number(synthetic)
      if (!Number.isInteger(seed)) throw new UsageError(`--synthetic expects an integer seed, got ${JSON.stringify(synthetic)}`)
      job = syntheticCenterJob({ problemSeed: seed })
    } else {
      await import("../job/caffe-center-job.js") // registers the Caffe center job
      const weights = flags.string("weights")
      const backend = flags.string("backend")
      job = await caffeCenterJob({ solverPath: solver!, log, ...(weights ? { weights } : {}), ...(backend ? { backend } : {}) })
    }
    const prefix = flags.string("checkpoint_prefix") ?? job.defaultCheckpointPrefix
    if (prefix === undefined && flags.has("checkpoint_every")) throw new UsageError("--checkpoint-every needs --checkpoint-prefix P (where to write)")
    const resume = flags.string("resume")
    if (!token) log("Warning: no token given; only processes on this machine can reach this center (loopback)")
    const signals = abortOnSignals()
    try {
      const result = await runCenter({
        job,
        token: token ?? "",
        host: listen.host,
        port: listen.port,
        settings,
        workers: flags.int("workers", 1, 1),
        maxExchanges: flags.int("max_exchanges", 0),
        checkpointEvery: flags.int("checkpoint_every", 0),
        ...(prefix !== undefined ? { checkpointPrefix: prefix } : {}),
        ...(resume !== undefined ? { resume } : {}),
        testInterval: flags.int("test_interval", 0),
        heartbeatTimeoutMs: flags.number("heartbeat_timeout", 60) * 1000,
        maxMessageBytes: Math.round(flags.number("max_message_mb", 512) * MiB),
        display: flags.int("display", 100),
        ...(serveData !== undefined ? { serveData } : {}),
        log,
        signal: signals.signal
      })
      if (result.checkpoint) log(`Last checkpoint: ${result.checkpoint}`)
      return result.reason === "interrupted" ? 130 : 0
    } finally {
      signals.dispose()
    }
  })
