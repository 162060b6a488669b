/**
 * `deepspark runner`: an @effect/cluster runner that hosts the trainers of cluster-mode runs
 * (`deepspark train … --cluster-db URL`). Start one per host; see docs/distributed.md.
 */
import { hostname } from "node:os"
import { abortOnSignals, parseAddress, parseFlags, runCommand, UsageError, type Command } from "../remote/args.js"

export const RUNNER_USAGE =
  "deepspark runner --cluster-db URL [--listen HOST:PORT] [--advertise HOST[:PORT]] [--lock-expiration SECONDS]"

export const DEFAULT_RUNNER_LISTEN = "127.0.0.1:34431"

export const runnerCommand: Command = (argv, io) =>
  runCommand(io, RUNNER_USAGE, async () => {
    const flags = parseFlags(argv, ["cluster_db", "listen", "advertise", "lock_expiration"])
    const clusterDb = flags.string("cluster_db")
    if (clusterDb === undefined) throw new UsageError("--cluster-db URL (the cluster's database, e.g. file:/var/lib/deepspark/cluster.db) is required")
    const listen = parseAddress(flags.string("listen") ?? DEFAULT_RUNNER_LISTEN, "listen")
    const advertiseFlag = flags.string("advertise")
    const wildcard = listen.host === "0.0.0.0" || listen.host === "::"
    const advertise =
      advertiseFlag === undefined
        ? { host: wildcard ? hostname() : listen.host, port: listen.port }
        : /:\d+$/.test(advertiseFlag)
          ? parseAddress(advertiseFlag, "advertise")
          : { host: advertiseFlag, port: listen.port }
    const lockExpiration = flags.number("lock_expiration", 0)
    // Loaded here so that usage errors come back without loading the cluster.
    const { runClusterRunner } = await import("../cluster/cluster-runner.js")
    const signals = abortOnSignals()
    try {
      await runClusterRunner({
        clusterDb,
        listen,
        advertise,
        ...(lockExpiration > 0 ? { sharding: { shardLockExpiration: `${lockExpiration} seconds` } } : {}),
        log: (line) => io.stdout(line),
        signal: signals.signal
      })
      return 0
    } finally {
      signals.dispose()
    }
  })
