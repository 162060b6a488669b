import { Effect, Schema } from "effect"
import { MessagePort, parentPort, workerData } from "node:worker_threads"
import { decodeInputSync } from "../transport/decode-input.js"
import { layerCenterClientProtocolMessagePort } from "../transport/message-port-rpc.js"
import { makeCenterClient } from "../transport/tcp.js"
import { runTrainerLoop } from "./trainer-loop.js"
import { buildTrainer } from "./build-trainer.js"
import { PERMANENT_EXIT_CODE, PermanentWorkerError } from "./permanent-error.js"
import { WorkerAssignment } from "./trainer-spec.js"

/**
 * A trainer in a worker thread: builds its LocalTrainer, then runs the trainer loop against the center
 * in the main thread over the MessagePort it was given (the same framed RPC as TCP mode).
 */
const WorkerThreadData = Schema.Struct({
  assignment: WorkerAssignment,
  port: Schema.declare((u: unknown): u is MessagePort => u instanceof MessagePort).annotations({ message: () => "must be a MessagePort" })
})
const { assignment, port } = decodeInputSync(WorkerThreadData, "worker thread: its workerData")(workerData)

// The pool asks this worker to leave the job for good: it does so after its next exchange.
let leaveRequested = false
// The pool ends the run early (another worker failed, its scope closed): this thread stops before its
// next iteration, never inside one. A thread on a WebGPU device cannot simply be terminated: Dawn aborts
// the whole process when that happens inside one of its calls or with a device promise pending.
let stopRequested = false
class StopRequested extends Error {}
parentPort?.on("message", (m: { type?: string }) => {
  if (m?.type === "leave") leaveRequested = true
  if (m?.type === "stop") stopRequested = true
})

const main = Effect.gen(function* () {
  const base = yield* Effect.promise(() => import("./engine-trainer.js").then(() => buildTrainer(assignment.spec, assignment.partition)))
  if (stopRequested) throw new StopRequested()
  const trainer = Object.assign(Object.create(base), {
    step: () => {
      if (stopRequested) throw new StopRequested()
      if (assignment.crashAtIteration !== undefined && base.iteration + 1 >= assignment.crashAtIteration) {
        throw new Error(`injected crash at iteration ${assignment.crashAtIteration}`)
      }
      return base.step()
    }
  })
  const client = yield* makeCenterClient
  const result = yield* runTrainerLoop(client, trainer, {
    workerId: assignment.workerId,
    token: assignment.token,
    partition: assignment.partition,
    period: assignment.period,
    maxIter: assignment.maxIter,
    adaptivePeriod: assignment.adaptivePeriod,
    ...(assignment.overlapExchange ? { overlapExchange: true } : {}),
    ...(assignment.join ? { join: true } : {}),
    leaveRequested: () => leaveRequested
  })
  parentPort?.postMessage({ type: "done", result })
}).pipe(
  Effect.scoped,
  Effect.provide(layerCenterClientProtocolMessagePort(port))
)

Effect.runPromise(main).then(
  () => process.exit(0),
  (e) => {
    // Asked to stop: nothing to report (the pool is no longer listening), and no device call in flight.
    if (stopRequested) process.exit(0)
    const message = e instanceof Error ? e.message : String(e)
    console.error(`worker ${assignment.workerId}: ${message}`)
    // A failure a restart cannot fix is reported to the supervisor, which then stops the run.
    const permanent = e instanceof PermanentWorkerError || (e as { cause?: unknown })?.cause instanceof PermanentWorkerError || /PermanentWorkerError/.test(String((e as Error)?.name))
    if (permanent) parentPort?.postMessage({ type: "fatal", message })
    process.exit(permanent ? PERMANENT_EXIT_CODE : 1)
  }
)
