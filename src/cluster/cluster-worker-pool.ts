import { Cause, Duration, Effect, Exit, Layer, Option } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { Center, type CenterView } from "../center/center-service.js"
import { WorkerPool } from "../driver/worker-pool.js"
import { WorkerFailedError, type LocalWorkerOutcome } from "../driver/local-workers.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"
import { ClusterAuthFailed } from "./cluster-auth.js"
import { buildClusterLayer, layerClientSharding, type ClusterConnectionOptions } from "./cluster-sharding.js"
import { TrainerEntity, TrainerFailed, type TrainPayload, type TrainResult } from "./trainer-entity.js"

/**
 * The third WorkerPool: trainers hosted by @effect/cluster runners (`deepspark runner` processes on any
 * number of hosts, coordinated through the cluster's SQL database). The driver keeps the center: it
 * serves CenterRpcs on TCP, as TcpWorkerPool does, and joins the cluster as a client to send each
 * partition's `Trainer` entity its `Train` message. Whichever runner owns the entity's shard runs the
 * trainer; when that runner dies the cluster hands the shard to a survivor and re-sends `Train` there,
 * and the new trainer re-registers under the same worker id and resumes from its last exchange.
 *
 * If a runner shuts down cleanly (its entities are interrupted, not failed over by the cluster), the
 * pool sends `Train` again itself; a trainer that the center refused, or that kept crashing on its
 * runner, fails the run.
 */
export interface ClusterWorkerPoolOptions extends ClusterConnectionOptions {
  /** Where the center listens for the trainers (default 127.0.0.1 on a free port: one machine). */
  readonly centerListen?: { readonly host: string; readonly port: number }
  /** The host name runners' trainers use to reach the center (default: the listen host; this host's name when that is 0.0.0.0 / ::). */
  readonly centerAdvertise?: string
  /** Names this run's entities (`<runId>-p<i>`), so concurrent runs on one cluster never share one (default: random). */
  readonly runId?: string
  readonly heartbeatEveryMs?: number
  readonly callTimeoutMs?: number
  readonly maxMessageBytes?: number
  /** Per runner: restarts of a crashed trainer process, and the first backoff (doubling). */
  readonly maxRestarts?: number
  readonly backoffMs?: number
  /** How often the pool re-sends a Train that a runner gave back (shutdown, defect) before giving up (10). */
  readonly maxResends?: number
  readonly resendDelay?: Duration.DurationInput
  /**
   * Serve the run's training data beside the center (a staging server, the run's token) and have every
   * trainer stage its partition into `stageTo` on its runner's disk before training: runners then need
   * the prototxts at the driver's paths, but not the databases. Sources resolve from `root` (default:
   * the run's working directory).
   */
  readonly serveData?: { readonly host?: string; readonly port: number; readonly root?: string }
  /** Where trainers stage their partitions, relative to the working directory (default `deepspark-staged`). */
  readonly stageTo?: string
  readonly log?: (line: string) => void
  readonly onListening?: (address: { host: string; port: number }) => void
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === ""

export const ClusterWorkerPool = (options: ClusterWorkerPoolOptions) =>
  Layer.succeed(WorkerPool, {
    description: `cluster runners (storage ${options.clusterDb})`,
    run: (assignments) =>
      Effect.gen(function* () {
        const log = options.log ?? (() => {})
        const center = yield* Center
        const maxMessageBytes = options.maxMessageBytes ?? 512 * 1024 * 1024
        const address = yield* serveCenterTcp({
          host: options.centerListen?.host ?? "127.0.0.1",
          port: options.centerListen?.port ?? 0,
          maxFrameBytes: maxMessageBytes,
          // With a TLS cluster the center is served over TLS too, with the driver's certificate; only
          // trainers whose runner shows a certificate the cluster's CA signed connect.
          ...(options.tls !== undefined ? { tls: options.tls } : {})
        }).pipe(Effect.orDie)
        options.onListening?.(address)
        const centerHost = options.centerAdvertise ?? (isWildcard(address.host) ? hostname() : address.host)
        log(`Center for cluster trainers at ${centerHost}:${address.port} (listening on ${address.host}:${address.port})`)

        let staging: TrainPayload["staging"]
        if (options.serveData !== undefined) {
          const spec = assignments[0]?.spec
          const root = options.serveData.root ?? (spec?.kind === "caffe" ? spec.workingDirectory : undefined) ?? process.cwd()
          const { serveStagingTcp } = yield* Effect.promise(() => import("../staging/server.js"))
          const data = yield* serveStagingTcp({ host: options.serveData.host ?? "127.0.0.1", port: options.serveData.port, token: assignments[0]?.token ?? "", root, ...(options.tls !== undefined ? { tls: options.tls } : {}) }).pipe(Effect.orDie)
          staging = { host: isWildcard(data.host) ? centerHost : data.host, port: data.port, dir: options.stageTo ?? "deepspark-staged" }
          log(`Training data served to the trainers at ${staging.host}:${data.port} (from ${root}); they stage into ${staging.dir}`)
        }

        const sharding = yield* buildClusterLayer(layerClientSharding(options))
        const client = yield* Effect.provide(TrainerEntity.client, sharding)
        const runId = options.runId ?? randomBytes(6).toString("hex")
        const maxResends = options.maxResends ?? 10

        const train = (assignment: WorkerAssignment): Effect.Effect<TrainResult, WorkerFailedError> => {
          const entityId = `${runId}-p${assignment.partition.index}`
          const payload: TrainPayload = {
            assignment,
            centerHost,
            centerPort: address.port,
            heartbeatEveryMs: options.heartbeatEveryMs ?? 5_000,
            callTimeoutMs: options.callTimeoutMs ?? 120_000,
            maxMessageBytes,
            maxRestarts: options.maxRestarts ?? 10,
            backoffMs: options.backoffMs ?? 500,
            ...(staging ? { staging } : {})
          }
          const attempt = (sends: number): Effect.Effect<TrainResult, WorkerFailedError> =>
            client(entityId)
              .Train(payload)
              .pipe(
                Effect.exit,
                Effect.flatMap((exit) => {
                  if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
                  const failure = Cause.failureOption(exit.cause)
                  // Refused for good: by the trainer (the center, crashes, a path outside the runner's root) or
                  // by the runner's check of the cluster secret.
                  if (Option.isSome(failure) && (failure.value instanceof TrainerFailed || failure.value instanceof ClusterAuthFailed))
                    return Effect.fail(new WorkerFailedError(assignment.workerId, sends, failure.value.message))
                  const why = Option.isSome(failure) ? String(failure.value) : Cause.isInterruptedOnly(exit.cause) ? "its runner stopped it" : Cause.pretty(exit.cause)
                  if (sends >= maxResends) return Effect.fail(new WorkerFailedError(assignment.workerId, sends, why))
                  log(`Worker ${assignment.workerId}: its trainer on the cluster ended without finishing (${why}); sending it again (${sends}/${maxResends})`)
                  return Effect.sleep(options.resendDelay ?? "1 second").pipe(Effect.zipRight(attempt(sends + 1)))
                })
              )
          return attempt(1)
        }

        const outcome = (workerId: string, result: Partial<TrainResult>, view: CenterView): LocalWorkerOutcome => {
          const record = view.workers.get(workerId)
          return {
            workerId,
            // Restarts and moves alike: each one registered a new incarnation with the center.
            restarts: record ? record.incarnation - 1 : 0,
            result: { iterations: record?.clock ?? result.iterations, exchanges: record?.exchanges ?? result.exchanges, ...(result.runner ? { runner: result.runner } : {}) }
          }
        }
        const all = Effect.forEach(
          assignments,
          (a) => train(a).pipe(Effect.flatMap((r) => Effect.map(center.view, (view) => outcome(a.workerId, r, view)))),
          { concurrency: "unbounded" }
        )
        // The center may end the run first (an exchange target): then report what it knows.
        const stopped = center.stopped.pipe(Effect.zipRight(center.view), Effect.map((view) => assignments.map((a) => outcome(a.workerId, {}, view))))
        return yield* Effect.raceFirst(all, stopped)
      })
  })

