import { Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { Center } from "../center/center-service.js"
import { runLocalWorkers, type LocalWorkerOutcome, type WorkerFailedError } from "./local-workers.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"
import { serveTcpWorkers } from "../center/serve-tcp-workers.js"

/**
 * Where a run's trainers live, as a service: the driver hands it one assignment per partition and waits
 * for the trainers to finish. `LocalWorkerPool` starts them as supervised worker threads;
 * `TcpWorkerPool` serves the center on a TCP address and waits for `deepspark worker` processes (on
 * this host or others) to register, train their partitions and stop. The driver is the same program
 * either way — choose the Layer.
 */
export interface WorkerPoolApi {
  readonly description: string
  /** A fixed token the external workers were given (TCP); otherwise the driver makes one. */
  readonly token?: string
  /** The trainers run on this host and see its files (local threads): the driver may name files for them, e.g. their logs. */
  readonly trainersOnThisHost?: boolean
  readonly run: (
    assignments: ReadonlyArray<WorkerAssignment>
  ) => Effect.Effect<ReadonlyArray<LocalWorkerOutcome>, WorkerFailedError, Center | Scope.Scope>
}

export class WorkerPool extends Context.Tag("deepspark/WorkerPool")<WorkerPool, WorkerPoolApi>() {}

export const LocalWorkerPool = (options: { readonly maxRestarts?: number; readonly log?: (line: string) => void } = {}) =>
  Layer.succeed(WorkerPool, {
    description: "local worker threads",
    trainersOnThisHost: true,
    run: (assignments) =>
      runLocalWorkers({
        assignments,
        ...(options.maxRestarts !== undefined ? { maxRestarts: options.maxRestarts } : {}),
        ...(options.log ? { log: options.log } : {})
      })
  })

export const TcpWorkerPool = (options: {
  readonly host?: string
  readonly port: number
  readonly token: string
  readonly maxFrameBytes?: number
  readonly onListening?: (address: { host: string; port: number }) => void
  /** How often to check whether every planned worker has finished. */
  readonly poll?: Duration.DurationInput
  /**
   * Also serve partitions of the training databases to workers that stage them (`deepspark worker
   * --stage-from`): a staging server on its own address, with this pool's token, for the run. Sources
   * resolve from `root` (default: the run's working directory, where Caffe resolves them).
   */
  readonly serveData?: {
    readonly host?: string
    readonly port: number
    readonly root?: string
    readonly onListening?: (address: { host: string; port: number }) => void
  }
}) =>
  Layer.succeed(WorkerPool, {
    description:
      `TCP workers on ${options.host ?? "127.0.0.1"}:${options.port}` +
      (options.serveData ? `; training data served on ${options.serveData.host ?? options.host ?? "127.0.0.1"}:${options.serveData.port}` : ""),
    token: options.token,
    run: (assignments) =>
      Effect.gen(function* () {
        const center = yield* Center
        const host = options.host ?? "127.0.0.1"
        const serveData = options.serveData
        const spec = assignments[0]?.spec
        const served = yield* serveTcpWorkers({
          host,
          port: options.port,
          token: options.token,
          ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
          ...(serveData !== undefined
            ? {
                serveData: {
                  host: serveData.host ?? host,
                  port: serveData.port,
                  root: serveData.root ?? (spec?.kind === "caffe" ? spec.workingDirectory : undefined) ?? process.cwd()
                }
              }
            : {})
        }).pipe(Effect.orDie)
        if (served.data) serveData?.onListening?.(served.data)
        options.onListening?.(served.center)
        // Done when as many workers as planned have trained and every one that trained has stopped.
        yield* center.plannedWorkersFinished(assignments.length).pipe(
          Effect.repeat({ schedule: Schedule.spaced(options.poll ?? "200 millis"), until: (done) => done }),
          Effect.raceFirst(center.stopped)
        )
        return [...(yield* center.view).workers.values()].map((w) => ({
          workerId: w.workerId,
          restarts: w.incarnation - 1,
          result: { iterations: w.clock, exchanges: w.exchanges }
        }))
      })
  })
