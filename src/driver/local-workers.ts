import { Data, Deferred, Duration, Effect, FiberSet } from "effect"
import { MessageChannel, Worker } from "node:worker_threads"
import { CenterHandlersLive } from "../center/center-service.js"
import { serveCenterRpcsOverMessagePorts } from "../transport/message-port-rpc.js"
import { threadEntry } from "../launch/entry-points.js"
import { PERMANENT_EXIT_CODE } from "../worker/permanent-error.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"

/**
 * Local mode: each trainer in its own worker thread, the center in this thread, CenterRpcs between
 * them over MessagePorts. Each trainer is supervised: if its thread dies (an exception, a crash,
 * terminate()), it is restarted with exponential backoff; the new incarnation re-registers, re-pulls
 * x̃ and resumes its partition from the cursor of its last exchange. The others never wait for it.
 */

export interface LocalWorkersOptions {
  readonly assignments: ReadonlyArray<WorkerAssignment>
  readonly maxRestarts?: number
  readonly backoff?: Duration.DurationInput
  readonly log?: (line: string) => void
  /** Called with each live Worker (tests use it to kill one). */
  readonly onSpawn?: (workerId: string, worker: Worker, attempt: number) => void
  /** Called once the workers are started, with the pool's controls (elastic runs: join and leave). */
  readonly onStart?: (pool: LocalWorkersControl) => void
}

/** Changing the set of workers of a running local pool (the center must be elastic). */
export interface LocalWorkersControl {
  /** Starts one more supervised worker thread; with `join: true` the center assigns its records. */
  join(assignment: WorkerAssignment): void
  /** Asks a worker to leave the job for good after its next exchange (its thread then ends, not restarted). */
  leave(workerId: string): void
}

export interface LocalWorkerOutcome {
  readonly workerId: string
  readonly restarts: number
  readonly result: unknown
}

/** A worker that kept failing (or failed for good): the run stops with this. */
export class WorkerFailedError extends Data.TaggedError("WorkerFailedError")<{
  readonly workerId: string
  readonly attempts: number
  readonly lastError: string
  readonly message: string
}> {
  constructor(workerId: string, attempts: number, lastError: string) {
    super({ workerId, attempts, lastError, message: `worker ${workerId} failed ${attempts} times; last error: ${lastError}` })
  }
}

const trainerThread = threadEntry("worker-entry")

/** Runs one worker thread to its end; fails with the reason when it dies. */
const runThread = (
  assignment: WorkerAssignment,
  accept: (port: import("node:worker_threads").MessagePort) => void,
  onSpawn: LocalWorkersOptions["onSpawn"],
  attempt: number
) =>
  Effect.async<unknown, { readonly reason: string; readonly permanent: boolean }>((resume) => {
    const { port1, port2 } = new MessageChannel()
    accept(port1)
    const worker = new Worker(trainerThread.file, {
      workerData: { ...trainerThread.workerData, assignment, port: port2 },
      transferList: [port2],
      stderr: false
    })
    let result: unknown
    let fatal: string | undefined
    let exited = false
    worker.on("message", (m: { type: string; result?: unknown; message?: string }) => {
      if (m?.type === "done") result = m.result
      if (m?.type === "fatal") fatal = m.message
    })
    worker.on("error", (e) => resume(Effect.fail({ reason: e.message, permanent: false })))
    worker.on("exit", (code) => {
      exited = true
      port1.close()
      if (code === 0 && result !== undefined) resume(Effect.succeed(result))
      else if (code === PERMANENT_EXIT_CODE && fatal !== undefined) resume(Effect.fail({ reason: fatal, permanent: true }))
      else resume(Effect.fail({ reason: `thread exited with code ${code}`, permanent: false }))
    })
    onSpawn?.(assignment.workerId, worker, attempt)
    return stopThread(worker, () => exited, onDevice(assignment))
  })

/** A trainer on a WebGPU device (`gpu`, `gpu:0,1`). */
const onDevice = (assignment: WorkerAssignment): boolean =>
  assignment.spec.kind === "caffe" && assignment.spec.backend !== undefined && assignment.spec.backend.startsWith("gpu")

/** How long a trainer on a device has to stop (its current iteration, or its start-up) before it is terminated. */
const DEVICE_STOP_GRACE_MS = 30_000

/**
 * Ends a trainer thread the run no longer needs. A thread on a WebGPU device is asked to stop before its
 * next iteration: terminate() while it is inside a Dawn call, or has a device promise pending, aborts
 * this whole process (Dawn's `FATAL ERROR: … napi_throw`). Only one that does not stop in time is
 * terminated. Other threads hold nothing of the kind and are terminated at once.
 */
const stopThread = (worker: Worker, hasExited: () => boolean, cooperative: boolean) =>
  Effect.async<void>((resume) => {
    if (hasExited()) return resume(Effect.void)
    if (!cooperative) {
      void worker.terminate().then(() => resume(Effect.void))
      return
    }
    const deadline = setTimeout(() => void worker.terminate(), DEVICE_STOP_GRACE_MS)
    worker.once("exit", () => {
      clearTimeout(deadline)
      resume(Effect.void)
    })
    worker.postMessage({ type: "stop" })
  })

export const runLocalWorkers = (options: LocalWorkersOptions) =>
  Effect.gen(function* () {
    const log = options.log ?? (() => {})
    const accept = yield* serveCenterRpcsOverMessagePorts(CenterHandlersLive)
    const maxRestarts = options.maxRestarts ?? 5
    const backoff = Duration.toMillis(options.backoff ?? "200 millis")

    // Live threads by worker id, and the ids asked to leave (told again if their thread restarts).
    const live = new Map<string, Worker>()
    const leaving = new Set<string>()
    const onSpawn = (workerId: string, worker: Worker, attempt: number) => {
      live.set(workerId, worker)
      if (leaving.has(workerId)) worker.postMessage({ type: "leave" })
      options.onSpawn?.(workerId, worker, attempt)
    }

    const supervise = (assignment: WorkerAssignment): Effect.Effect<LocalWorkerOutcome, WorkerFailedError> => {
      // The injected crash (a test hook) happens once: restarts run without it.
      const { crashAtIteration: _crashOnce, ...restarted } = assignment
      const attempt = (n: number): Effect.Effect<LocalWorkerOutcome, WorkerFailedError> =>
        runThread(n === 0 ? assignment : restarted, accept, onSpawn, n).pipe(
          Effect.map((result) => ({ workerId: assignment.workerId, restarts: n, result })),
          Effect.catchAll(({ reason, permanent }) => {
            // A permanent failure (e.g. an unreadable partition) stops the run at once.
            if (permanent || n >= maxRestarts) return Effect.fail(new WorkerFailedError(assignment.workerId, n + 1, reason))
            const delay = backoff * 2 ** n
            log(`Worker ${assignment.workerId} died (${reason}); restarting in ${delay} ms (restart ${n + 1}/${maxRestarts})`)
            return Effect.sleep(Duration.millis(delay)).pipe(Effect.zipRight(attempt(n + 1)))
          })
        )
      return attempt(0)
    }

    // Every worker in one FiberSet: the first failure ends the pool (as Effect.all would), else it ends
    // when every worker, joined ones included, has.
    const set = yield* FiberSet.make<LocalWorkerOutcome, WorkerFailedError>()
    const fork = yield* FiberSet.runtime(set)<never>()
    // Completed (inside the failing fiber, before it ends) by the first worker that fails for good.
    const failed = yield* Deferred.make<never, WorkerFailedError>()
    const outcomes: LocalWorkerOutcome[] = []
    const start = (assignment: WorkerAssignment) => {
      const slot = outcomes.length
      outcomes.length++
      fork(
        supervise(assignment).pipe(
          Effect.tap((o) => Effect.sync(() => (outcomes[slot] = o))),
          Effect.tapError((e) => Deferred.fail(failed, e))
        )
      )
    }
    for (const a of options.assignments) start(a)
    options.onStart?.({
      join: (a) => {
        log(`Worker ${a.workerId} joins the run`)
        start(a)
      },
      leave: (workerId) => {
        leaving.add(workerId)
        live.get(workerId)?.postMessage({ type: "leave" })
      }
    })
    // On a failure the other workers are interrupted at once (not when the caller's scope closes).
    yield* Effect.raceFirst(Deferred.await(failed), FiberSet.awaitEmpty(set))
    if (yield* Deferred.isDone(failed)) {
      yield* FiberSet.clear(set)
      return yield* Deferred.await(failed)
    }
    return outcomes
  })
