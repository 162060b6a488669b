import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SocketRunner from "@effect/cluster/SocketRunner"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { Duration, Effect, Layer, Option, Schedule } from "effect"
import { layerClusterAuthClient } from "./cluster-auth.js"
import { layerClusterSql } from "./cluster-sql.js"
import { layerClusterClientProtocolTls, layerClusterSocketServerTls } from "./cluster-tls.js"
import type { TlsFiles } from "../transport/tls-options.js"

/**
 * The @effect/cluster stack deepspark uses, over SQL storage (cluster-sql.ts): runners talk to each
 * other over TCP (SocketRunner, msgpack), register and lock shards in SqlRunnerStorage, and keep their
 * message storage in SqlMessageStorage. The same composition as @effect/platform-node's
 * NodeClusterSocket.layer, but configured only from the options here (not from environment variables
 * such as HOST or PORT), so every process of a run agrees on its settings.
 */
export interface ClusterConnectionOptions {
  /** The cluster's database URL (see cluster-sql.ts): `file:/path/cluster.db` on one machine. */
  readonly clusterDb: string
  /** Signs the entity messages this member sends; runners check it (cluster-auth.ts). */
  readonly clusterSecret: string
  /**
   * Sharding settings; must agree between all processes of a cluster (shardsPerGroup above all).
   * `shardLockExpiration` bounds how long a killed runner's trainers wait to move (default 35 s).
   */
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Type"]>
  readonly busyTimeoutMs?: number
  /**
   * The cluster's transport over mutual TLS (cluster-tls.ts): this member's certificate and key, and
   * the cluster's CA. Every member of a cluster must agree (all TLS or none).
   */
  readonly tls?: TlsFiles
}

export interface RunnerListenOptions extends ClusterConnectionOptions {
  /** Address the runner listens on for other runners and drivers. */
  readonly listen: { readonly host: string; readonly port: number }
  /** Address the others use to reach it (default: `listen`). */
  readonly advertise?: { readonly host: string; readonly port: number }
}

/** Faster failure detection than the cluster's defaults, still tolerant of a loaded machine. */
export const deepsparkShardingDefaults: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  // A runner that stops refreshing its shard locks loses them after this long (its trainers move).
  shardLockExpiration: Duration.seconds(20),
  refreshAssignmentsInterval: Duration.seconds(1),
  runnerHealthCheckInterval: Duration.seconds(10),
  // A runner that shuts down stops its trainers after this long (the cluster's default waits 15 s for
  // requests to finish; a trainer's Train lasts the whole run), so their shards move to others sooner.
  entityTerminationTimeout: Duration.seconds(2),
  // Shard locks as rows that expire (acquired_at older than shardLockExpiration), not PostgreSQL
  // advisory locks: an advisory lock lives as long as the runner's database connection, and when a
  // runner's host is cut off PostgreSQL keeps that connection — and the locks — until TCP gives up on
  // it (hours with the kernel's keepalive defaults), so the runner's trainers never moved. Every member
  // of a cluster must agree on this setting.
  shardLockDisableAdvisory: true
}

const storage = (options: ClusterConnectionOptions) =>
  Layer.mergeAll(Layer.orDie(SqlMessageStorage.layer), Layer.orDie(SqlRunnerStorage.layer)).pipe(
    Layer.provide(layerClusterSql({ url: options.clusterDb, ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) }))
  )

/** How this member connects to runners: plain TCP, or TLS with its files. */
const clientProtocol = (options: ClusterConnectionOptions) =>
  options.tls !== undefined ? layerClusterClientProtocolTls(options.tls) : NodeClusterSocket.layerClientProtocol

const shardingConfig = (options: ClusterConnectionOptions, addresses: Partial<ShardingConfig.ShardingConfig["Type"]>) =>
  ShardingConfig.layer({ ...deepsparkShardingDefaults, ...options.sharding, ...addresses })

/** Sharding for a runner process: hosts entities, listens at `listen`, checks the other runners' health. */
export const layerRunnerSharding = (options: RunnerListenOptions) => {
  const advertise = options.advertise ?? options.listen
  const config = shardingConfig(options, {
    runnerAddress: Option.some(RunnerAddress.make(advertise.host, advertise.port)),
    runnerListenAddress: Option.some(RunnerAddress.make(options.listen.host, options.listen.port))
  })
  const health = RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(clientProtocol(options)))
  const server = options.tls !== undefined ? layerClusterSocketServerTls(options.listen, options.tls) : NodeClusterSocket.layerSocketServer
  return SocketRunner.layer.pipe(
    Layer.provide(layerClusterAuthClient(options.clusterSecret)),
    Layer.provide([server, clientProtocol(options)]),
    Layer.provide(health),
    Layer.provideMerge(storage(options)),
    Layer.provide(config),
    Layer.provide(RpcSerialization.layerMsgPack)
  )
}

/** Sharding for a driver: hosts no entities, only sends them messages (client-only). */
export const layerClientSharding = (options: ClusterConnectionOptions) =>
  SocketRunner.layerClientOnly.pipe(
    // The entity clients of this Sharding sign every message with the cluster secret.
    Layer.provide(layerClusterAuthClient(options.clusterSecret)),
    Layer.provide(clientProtocol(options)),
    Layer.provideMerge(storage(options)),
    Layer.provide(shardingConfig(options, { runnerAddress: Option.none() })),
    Layer.provide(RpcSerialization.layerMsgPack)
  )

/**
 * Builds one of the layers above in the current scope, retried a few times: the first processes to
 * start on an empty PostgreSQL database race to create the cluster's tables, and PostgreSQL's
 * `CREATE TABLE IF NOT EXISTS` fails for all but one of them under concurrency.
 */
export const buildClusterLayer = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Layer.build(layer).pipe(
    Effect.sandbox,
    Effect.retry({ times: 4, schedule: Schedule.jittered(Schedule.spaced("500 millis")) }),
    Effect.unsandbox
  )

/** One line for a failure: the messages of an error and of the causes it wraps (SqlError → driver error). */
export const describeFailure = (error: unknown): string => {
  const parts: string[] = []
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const message = e instanceof Error ? e.message : typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : String(e)
    if (message && !parts.includes(message)) parts.push(message)
    e = typeof e === "object" ? (e as { cause?: unknown }).cause : undefined
  }
  return parts.join(": ")
}
