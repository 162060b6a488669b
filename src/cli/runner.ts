/**
 * `deepspark runner`: an @effect/cluster runner that hosts the trainers of cluster-mode runs
 * (`deepspark train … --cluster-db URL`). Start one per host; see docs/distributed.md.
 */
import { statSync } from "node:fs"
import { hostname } from "node:os"
import path from "node:path"
import { abortOnSignals } from "./abort-on-signals.js"
import { noPositionals } from "./argv.js"
import { CliUsageError } from "./command.js"
import { clusterSecretFrom, parseAddress } from "./network-flags.js"
import { standaloneCommand } from "./standalone-command.js"
import { clusterTlsFrom, clusterTlsOptions } from "./tls-flags.js"

export const RUNNER_USAGE =
  "deepspark runner --cluster-db URL (--cluster-secret S | env DEEPSPARK_CLUSTER_SECRET) [--root DIR] [--listen HOST:PORT] [--advertise HOST[:PORT]] [--lock-expiration SECONDS] [--tls-cert PEM --tls-key PEM --tls-ca PEM]"

export const DEFAULT_RUNNER_LISTEN = "127.0.0.1:34431"

const isDirectory = (dir: string): boolean => {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}

export const runnerCommand = standaloneCommand(
  {
    name: "runner",
    usage: RUNNER_USAGE,
    options: [
      { name: "cluster-db", type: "string", value: "URL", description: "the cluster's database (required): file:PATH (one machine) or postgres://USER@HOST/DB (several hosts)" },
      { name: "cluster-secret", type: "string", value: "S", description: "the cluster's shared secret (required; default $DEEPSPARK_CLUSTER_SECRET): every trainer request must be signed with it" },
      { name: "root", type: "string", value: "DIR", description: "train only solvers, weights and data folders under DIR (default: the working directory)" },
      { name: "listen", type: "string", value: "HOST:PORT", description: `where the runner listens for other runners and drivers (${DEFAULT_RUNNER_LISTEN})` },
      { name: "advertise", type: "string", value: "HOST[:PORT]", description: "the address others use to reach it (the listen address; this host's name for 0.0.0.0)" },
      { name: "lock-expiration", type: "number", min: 0, minExclusive: true, value: "SECONDS", description: "shard-lock expiry: how long a killed runner's trainers wait to move (20)" },
      ...clusterTlsOptions
    ]
  },
  async (p, io) => {
    noPositionals(p)
    const clusterDb = p.string("cluster-db")
    if (clusterDb === undefined) throw new CliUsageError("--cluster-db URL (the cluster's database: file:/path/cluster.db on one machine, postgres://user@host/db across hosts) is required")
    const clusterSecret = clusterSecretFrom(p.string("cluster-secret"), process.env)
    if (clusterSecret === undefined)
      throw new CliUsageError("--cluster-secret S (or DEEPSPARK_CLUSTER_SECRET) is required: the driver signs every trainer request with it, and this runner refuses any other")
    const root = path.resolve(p.string("root") ?? process.cwd())
    if (!isDirectory(root)) throw new CliUsageError(`--root ${root}: no such folder`)
    const listen = parseAddress(p.string("listen") ?? DEFAULT_RUNNER_LISTEN, "listen")
    const advertiseFlag = p.string("advertise")
    const wildcard = listen.host === "0.0.0.0" || listen.host === "::"
    const advertise =
      advertiseFlag === undefined
        ? { host: wildcard ? hostname() : listen.host, port: listen.port }
        : /:\d+$/.test(advertiseFlag)
          ? parseAddress(advertiseFlag, "advertise")
          : { host: advertiseFlag, port: listen.port }
    const lockExpiration = p.number("lock-expiration")
    const tls = clusterTlsFrom(p.string("tls-cert"), p.string("tls-key"), p.string("tls-ca"))
    // Loaded here so that usage errors come back without loading the cluster.
    const { runClusterRunner } = await import("../cluster/cluster-runner.js")
    const signals = abortOnSignals()
    try {
      await runClusterRunner({
        clusterDb,
        clusterSecret,
        root,
        listen,
        advertise,
        ...(tls !== undefined ? { tls } : {}),
        ...(lockExpiration !== undefined ? { sharding: { shardLockExpiration: `${lockExpiration} seconds` } } : {}),
        log: (line) => io.stdout(line),
        signal: signals.signal
      })
      return 0
    } finally {
      signals.dispose()
    }
  }
)
