import * as Entity from "@effect/cluster/Entity"
import { Effect, Layer } from "effect"
import { forLog } from "../transport/bounded-string.js"
import { layerClusterAuthServer } from "./cluster-auth.js"
import { confineTrainPayload } from "./confine-paths.js"
import type { TrainerLoopResult } from "../worker/trainer-loop.js"
import { superviseTrainer, type SuperviseResult } from "../worker/worker-supervisor.js"
import type { TlsFiles } from "../transport/tls-options.js"
import { watchCenter } from "./center-watch.js"
import { TrainerEntity, TrainerFailed, type TrainPayload, type TrainResult } from "./trainer-entity.js"

/**
 * The runner's side of the `Trainer` entity: `Train` runs the partition's trainer exactly as
 * `deepspark worker` does — a supervised child process (src/worker/worker-supervisor.ts →
 * trainer-child.ts) that connects to the center over the CenterRpcs TCP transport, registers, resumes
 * from its last exchange and trains — and answers with the trainer's result.
 *
 * The heavy computation stays out of the runner process, so the runner keeps refreshing its shard
 * locks and answering pings while its trainers compute. Interrupting the entity (its shard moves, the
 * runner shuts down) kills the child and waits for it to exit before the entity is gone. If the runner
 * itself is killed, the child notices its parent is gone and exits (trainer-child.ts).
 */
export interface TrainerEntityOptions {
  /** Where the runner's own lines go (the trainer processes write to the runner's stdout/stderr). */
  readonly log: (line: string) => void
  /** Every `Train` must be signed with this secret (cluster-auth.ts). */
  readonly clusterSecret: string
  /** Every path a `Train` names must lie under this folder (confine-paths.ts). */
  readonly root: string
  /**
   * The runner's TLS files (the cluster's CA, its certificate and key): its trainers reach the center
   * and the staging server over TLS with them, as the driver serves both when the cluster uses TLS.
   */
  readonly tls?: TlsFiles
}

export const trainOnRunner = (payload: TrainPayload, runner: string, log: (line: string) => void, tls?: TlsFiles) =>
  Effect.async<SuperviseResult>((resume) => {
    const controller = new AbortController()
    const supervised = superviseTrainer({
      remote: {
        host: payload.centerHost,
        port: payload.centerPort,
        assignment: payload.assignment,
        heartbeatEveryMs: payload.heartbeatEveryMs,
        callTimeoutMs: payload.callTimeoutMs,
        maxMessageBytes: payload.maxMessageBytes,
        ...(payload.staging ? { staging: payload.staging } : {}),
        ...(tls !== undefined ? { tls } : {})
      },
      maxRestarts: payload.maxRestarts,
      backoffMs: payload.backoffMs,
      log,
      signal: controller.signal
    })
    supervised.then(
      (r) => resume(Effect.succeed(r)),
      (e) => resume(Effect.die(e))
    )
    // On interruption: stop the trainer process and wait until it has exited.
    return Effect.promise(() => (controller.abort(), supervised))
  }).pipe(
    // A driver that dies tells no runner: stop the trainer as soon as its center is gone (center-watch.ts).
    // Interrupted, not failed: a driver that is still there (its center briefly unreachable) sends Train again.
    (training) =>
      Effect.raceFirst(
        training,
        watchCenter({ host: payload.centerHost, port: payload.centerPort, everyMs: payload.heartbeatEveryMs, unreachableAfterMs: payload.callTimeoutMs }).pipe(
          Effect.map((why): SuperviseResult | string => why)
        )
      ),
    Effect.flatMap((outcome) => {
      if (typeof outcome !== "string") return Effect.succeed(outcome)
      log(`runner ${runner}: stopped trainer ${payload.assignment.workerId}: ${outcome}`)
      return Effect.interrupt
    }),
    Effect.flatMap((outcome): Effect.Effect<TrainResult, TrainerFailed> => {
      const workerId = payload.assignment.workerId
      if (outcome.status === "done") {
        const r = outcome.result as TrainerLoopResult
        return Effect.succeed({ runner, restarts: outcome.restarts, iterations: r.iterations, exchanges: r.exchanges, stoppedByCenter: r.stoppedByCenter })
      }
      if (outcome.status === "aborted") return Effect.interrupt
      return Effect.fail(
        new TrainerFailed({
          workerId,
          runner,
          reason: outcome.status,
          message:
            outcome.status === "rejected"
              ? `worker ${workerId} on runner ${runner}: refused by the center (see the runner's log)`
              : `worker ${workerId} on runner ${runner}: gave up after ${outcome.restarts} restarts (see the runner's log)`
        })
      )
    })
  )

/** The Layer that registers the `Trainer` entity with this runner's Sharding. */
export const TrainerEntityLive = (options: TrainerEntityOptions) =>
  TrainerEntity.toLayer(
    Effect.gen(function* () {
      const address = yield* Entity.CurrentRunnerAddress
      const runner = `${address.host}:${address.port}`
      return {
        // Suspended: the handler is called to build its effect before ClusterAuth has run, and nothing
        // of an unauthenticated message (a path to look up, a line to log) may be touched before it has.
        Train: (request) =>
          Effect.suspend(() => {
            const a = request.payload.assignment
            const confined = confineTrainPayload(request.payload, options.root)
            if ("refused" in confined) {
              options.log(`runner ${runner}: refused to train ${forLog(a.workerId)}: ${confined.refused}`)
              return Effect.fail(new TrainerFailed({ workerId: a.workerId, runner, reason: "rejected", message: `worker ${a.workerId} on runner ${runner}: ${confined.refused}` }))
            }
            options.log(`runner ${runner}: training ${a.workerId} (partition ${a.partition.index}/${a.partition.count}) for the center at ${request.payload.centerHost}:${request.payload.centerPort}`)
            return trainOnRunner(confined.payload, runner, options.log, options.tls)
          })
      }
    }),
    // One trainer per entity; an idle entity (its run is over) goes away after a minute.
    { concurrency: 1 }
  ).pipe(Layer.provide(layerClusterAuthServer(options.clusterSecret)))
