import { Data, Deferred, Effect } from "effect"
import { Worker } from "node:worker_threads"
import { threadEntry } from "../launch/entry-points.js"
import type { EvaluatorResponse, EvaluatorSetup, TestNetResult } from "./evaluator-protocol.js"

/** The evaluator thread failed to start, or a test failed in it. */
export class EvaluatorError extends Data.TaggedError("EvaluatorError")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

export interface Evaluator {
  readonly testNets: number
  /** The evaluator thread's nice value as it reported it (null where the OS refused to tell). */
  readonly niceness: number | null
  /** Tests x̃ on every test net; logs the Caffe test lines under `iteration`. */
  readonly test: (x: Float32Array, iteration: number) => Effect.Effect<ReadonlyArray<TestNetResult>, EvaluatorError>
}

const evaluatorThread = threadEntry("evaluator-entry")

/**
 * The test thread's default nice value: 0, measured. A test pass costs the same CPU whatever its priority;
 * a raised nice value only moves that work later. With 2 trainers on 2 cores, nice 10 made each center
 * test take 21–45 s instead of 4–5 s (the first test result came 69–115 s into the run instead of
 * 12–32 s), while the trainers gained almost nothing: they leave few idle gaps for the test to fill.
 * `evaluatorNiceness` (and `--evaluator-nice`) still lower it where the center shares a loaded host.
 */
export const defaultEvaluatorNiceness = 0

/** An evaluator thread that may still be starting: tests wait for it. */
export interface StartingEvaluator {
  /** Succeeds once the thread has built its test nets; fails with its setup error. */
  readonly ready: Effect.Effect<Pick<Evaluator, "testNets" | "niceness">, EvaluatorError>
  readonly test: Evaluator["test"]
}

/** Starts the evaluator thread and waits until it is ready (scoped: closed with the scope). */
export const makeEvaluator = (setup: EvaluatorSetup, onLog: (line: string) => void) =>
  Effect.gen(function* () {
    const starting = yield* startEvaluator(setup, onLog)
    const { testNets, niceness } = yield* starting.ready
    return { testNets, niceness, test: starting.test } satisfies Evaluator
  })

/**
 * Starts the evaluator thread without waiting for it (scoped: closed with the scope): a distributed run
 * starts its trainers meanwhile, as building the test nets takes the thread ≈ 0.4 s.
 */
export const startEvaluator = (setup: EvaluatorSetup, onLog: (line: string) => void) =>
  Effect.gen(function* () {
    const ready = yield* Deferred.make<{ testNets: number; niceness: number | null }, EvaluatorError>()
    const pending = new Map<number, (r: { results?: ReadonlyArray<TestNetResult>; error?: string }) => void>()
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const w = new Worker(evaluatorThread.file, { workerData: { ...setup, ...evaluatorThread.workerData } })
        w.on("message", (m: EvaluatorResponse) => {
          if (m.type === "log") onLog(m.line)
          else if (m.type === "ready") Deferred.unsafeDone(ready, Effect.succeed({ testNets: m.testNets, niceness: m.niceness }))
          else if (m.type === "fatal") Deferred.unsafeDone(ready, Effect.fail(new EvaluatorError(m.message)))
          else if (m.type === "result" || m.type === "error") {
            const k = pending.get(m.id)
            pending.delete(m.id)
            k?.(m.type === "result" ? { results: m.results } : { error: m.message })
          }
        })
        w.on("error", (e) => {
          Deferred.unsafeDone(ready, Effect.fail(new EvaluatorError(e.message)))
          for (const k of pending.values()) k({ error: e.message })
          pending.clear()
        })
        w.on("exit", (code) => {
          Deferred.unsafeDone(ready, Effect.fail(new EvaluatorError(`evaluator thread exited with code ${code}`)))
          for (const k of pending.values()) k({ error: `evaluator thread exited with code ${code}` })
          pending.clear()
        })
        return w
      }),
      (w) => Effect.promise(() => w.terminate())
    )
    let nextId = 1
    const starting: StartingEvaluator = {
      ready: Deferred.await(ready),
      test: (x, iteration) =>
        Effect.zipRight(
          Deferred.await(ready),
          Effect.async<ReadonlyArray<TestNetResult>, EvaluatorError>((resume) => {
            const id = nextId++
            pending.set(id, (r) => resume(r.results ? Effect.succeed(r.results) : Effect.fail(new EvaluatorError(r.error ?? "unknown"))))
            const copy = x.slice()
            worker.postMessage({ type: "test", id, x: copy, iteration }, [copy.buffer])
          })
        )
    }
    return starting
  })

/**
 * Starts the evaluator thread once `gate` has completed (forked into the caller's scope), for a run whose
 * first test is far off: the thread's start-up (≈ 0.5 s of CPU: loading the engine, building the test
 * nets) then no longer competes with the trainers' own on few cores. Tests and `ready` wait for it.
 */
export const startEvaluatorAfter = (gate: Effect.Effect<void>, setup: EvaluatorSetup, onLog: (line: string) => void) =>
  Effect.gen(function* () {
    const started = yield* Deferred.make<StartingEvaluator>()
    yield* gate.pipe(
      Effect.zipRight(startEvaluator(setup, onLog)),
      Effect.flatMap((s) => Deferred.succeed(started, s)),
      Effect.forkScoped
    )
    const evaluator = Deferred.await(started)
    return {
      ready: Effect.flatMap(evaluator, (s) => s.ready),
      test: (x, iteration) => Effect.flatMap(evaluator, (s) => s.test(x, iteration))
    } satisfies StartingEvaluator
  })
