/**
 * `deepspark train … --workers N --cluster-db URL`: the same distributed run, with the trainers hosted
 * by @effect/cluster runners (`deepspark runner`) instead of worker threads. The flags and the
 * WorkerPool Layer they choose; the run itself is train-distributed.ts's.
 */
import type { Layer } from "effect"
import type { WorkerPool } from "../driver/worker-pool.js"
import type { OptionSpec, OptionValue } from "./argv.js"
import { CliUsageError } from "./command.js"
import { clusterSecretFrom, parseAddress } from "./network-flags.js"
import { clusterTlsFrom } from "./tls-flags.js"

export const clusterTrainOptions: ReadonlyArray<OptionSpec> = [
  { name: "cluster-db", type: "string", value: "URL", description: "train on the runners (deepspark runner) of the @effect/cluster whose database this is (file:/path/cluster.db on one machine, postgres://… across hosts)" },
  { name: "cluster-secret", type: "string", value: "S", description: "with --cluster-db: the runners' shared secret (default $DEEPSPARK_CLUSTER_SECRET): signs every trainer request" },
  { name: "center-listen", type: "string", value: "HOST:PORT", description: "with --cluster-db: where the center listens for the trainers (default 127.0.0.1, any port; 0.0.0.0:PORT for other hosts)" },
  { name: "center-advertise", type: "string", value: "HOST", description: "with --cluster-db: the host name the trainers connect to (default: the listen host, or this host's name)" },
  { name: "lock-expiration", type: "number", value: "SECONDS", description: "with --cluster-db: the cluster's shard-lock expiry, as the runners were given it (default 20)" },
  { name: "serve-data", type: "string", value: "HOST:PORT", description: "with --cluster-db: serve the databases under the working directory to the trainers, which stage their partitions" },
  { name: "stage-to", type: "string", value: "DIR", description: "with --serve-data: where trainers stage their partitions on their runner (default deepspark-staged)" },
  { name: "tls-cert", type: "string", value: "PEM", description: "with --cluster-db: a TLS cluster — this driver's certificate (with --tls-key, --tls-ca); the center and staging server are served with it" },
  { name: "tls-key", type: "string", value: "PEM", description: "with --cluster-db: the certificate's private key" },
  { name: "tls-ca", type: "string", value: "PEM", description: "with --cluster-db: the cluster's CA; runners and trainers must present certificates it signed" }
]

/** The cluster WorkerPool the flags ask for, or undefined (no --cluster-db: local worker threads). */
export const clusterPoolFrom = async (o: ReadonlyMap<string, OptionValue>, log: (line: string) => void): Promise<Layer.Layer<WorkerPool> | undefined> => {
  const clusterDb = o.get("cluster_db") as string | undefined
  if (clusterDb === undefined) {
    const stray = ["cluster_secret", "center_listen", "center_advertise", "lock_expiration", "serve_data", "stage_to", "tls_cert", "tls_key", "tls_ca"].find((k) => o.has(k))
    if (stray) throw new CliUsageError(`--${stray.replaceAll("_", "-")} only applies with --cluster-db URL`)
    return undefined
  }
  const clusterSecret = clusterSecretFrom(o.get("cluster_secret") as string | undefined, process.env)
  if (clusterSecret === undefined)
    throw new CliUsageError("--cluster-db needs the runners' secret: --cluster-secret S or DEEPSPARK_CLUSTER_SECRET (runners refuse unsigned requests)")
  const listen = o.get("center_listen") as string | undefined
  const advertise = o.get("center_advertise") as string | undefined
  const lockExpiration = o.get("lock_expiration") as number | undefined
  const serveData = o.get("serve_data") as string | undefined
  const stageTo = o.get("stage_to") as string | undefined
  if (stageTo !== undefined && serveData === undefined) throw new CliUsageError("--stage-to DIR needs --serve-data HOST:PORT (where the trainers stage from)")
  if (lockExpiration !== undefined && !(lockExpiration > 0)) throw new CliUsageError(`--lock-expiration expects seconds > 0, got ${lockExpiration}`)
  const tls = clusterTlsFrom(o.get("tls_cert") as string | undefined, o.get("tls_key") as string | undefined, o.get("tls_ca") as string | undefined)
  const { ClusterWorkerPool } = await import("../cluster/cluster-worker-pool.js")
  return ClusterWorkerPool({
    clusterDb,
    clusterSecret,
    ...(listen !== undefined ? { centerListen: parseAddress(listen, "center-listen") } : {}),
    ...(advertise !== undefined ? { centerAdvertise: advertise } : {}),
    ...(lockExpiration !== undefined ? { sharding: { shardLockExpiration: `${lockExpiration} seconds` } } : {}),
    ...(serveData !== undefined ? { serveData: parseAddress(serveData, "serve-data") } : {}),
    ...(stageTo !== undefined ? { stageTo } : {}),
    ...(tls !== undefined ? { tls } : {}),
    log
  })
}
