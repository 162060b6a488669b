import path from "node:path"
import { readSolverPrototxtSync } from "@deepspark/caffe"
import { Cause, Duration, Effect, Either, Option } from "effect"
import { buildTrainer } from "./build-trainer.js"
import { PermanentWorkerError } from "./permanent-error.js"
import type { TrainerSpec } from "./trainer-spec.js"
import { StagingFailed } from "../staging/staging-failed.js"
import { runTrainerLoop } from "./trainer-loop.js"
import { CenterRejected } from "../transport/center-rpcs.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../transport/tcp.js"
import { boundCenterClient } from "./bounded-client.js"
import { ioScheduler } from "../transport/io-scheduler.js"
import { childExit, RemoteTrainerAssignment } from "./remote-assignment.js"
import { decodeInput } from "../transport/decode-input.js"

/** The assignment `deepspark worker` passed as JSON; anything else ends this process with exit 2 and one line. */
const readAssignment = (arg: string | undefined): RemoteTrainerAssignment => {
  const source = "trainer-child: its assignment argument"
  let json: unknown
  try {
    json = JSON.parse(arg ?? "")
  } catch {
    console.error(`${source} is missing or not JSON`)
    process.exit(2)
  }
  const decoded = decodeInput(RemoteTrainerAssignment, source)(json)
  if (Either.isLeft(decoded)) {
    console.error(decoded.left.message)
    process.exit(2)
  }
  return decoded.right
}

/**
 * One incarnation of a remote trainer: build the LocalTrainer, connect to the center over TCP, run the
 * trainer loop (register → re-pull x̃ → resume from the last exchange's iteration/cursor → τ steps and
 * an exchange, …). Every call has a timeout (bounded-client.ts), so a vanished center ends this process
 * (and the parent restarts it with backoff) instead of hanging it. Runs in its own process so that `kill -9` of the
 * computation is survivable.
 */
const remote = readAssignment(process.argv[2])
const { assignment } = remote
const tag = `worker ${assignment.workerId}`
// If the supervising `deepspark worker` dies, do not linger as an orphan.
process.on("disconnect", () => process.exit(1))
// `deepspark worker --leave` got a signal: leave the job for good after the current exchange.
let leaveRequested = false
process.on("message", (m: { type?: string }) => {
  if (m?.type === "leave") leaveRequested = true
})

/** The partitions staged from `remote.staging` (layer → local LMDB), known before the trainer is built. */
const stageData = (spec: TrainerSpec) =>
  Effect.gen(function* () {
    const staging = remote.staging
    if (staging === undefined) return spec
    if (spec.kind !== "caffe") return yield* Effect.dieMessage(`${tag}: staging needs a Caffe solver (-solver S)`)
    const { stageTrainData } = yield* Effect.promise(() => import("../staging/worker-staging.js"))
    const stagedData = yield* stageTrainData({
      solverPath: spec.solverPath,
      cwd: spec.workingDirectory ?? process.cwd(),
      partition: assignment.partition,
      worker: assignment.workerId,
      token: assignment.token,
      server: { host: staging.host, port: staging.port },
      // The staging server beside the center speaks TLS when the center does, with the same certificate.
      ...(remote.tls !== undefined ? { tls: remote.tls } : {}),
      dir: staging.dir,
      callTimeoutMs: remote.callTimeoutMs,
      log: (line) => console.log(line)
    })
    return { ...spec, stagedData } satisfies TrainerSpec
  })

const main = Effect.gen(function* () {
  // Staging first: a refused or unreachable staging server is reported before the engine loads.
  const spec = yield* stageData(assignment.spec)
  if (spec.kind === "caffe") yield* Effect.promise(() => import("./engine-trainer.js"))
  // A solver that cannot be read or parsed is a configuration error: restarting cannot help.
  const maxIter =
    assignment.maxIter > 0
      ? assignment.maxIter
      : spec.kind === "caffe"
        ? yield* Effect.try({
            try: () => Number(readSolverPrototxtSync(path.resolve(spec.workingDirectory ?? process.cwd(), spec.solverPath)).max_iter ?? 0),
            catch: (e) => new PermanentWorkerError(e instanceof Error ? e.message : String(e))
          })
        : 0
  if (!(maxIter > 0)) return yield* Effect.fail(new PermanentWorkerError(`no max_iter (give --max-iter)`))
  const trainer = yield* Effect.tryPromise({
    try: () => buildTrainer(spec, assignment.partition),
    // A PermanentWorkerError (an unreadable partition, a bad net) stops this worker; anything else restarts it.
    catch: (e) => (e instanceof Error ? e : new Error(String(e)))
  })
  const client = boundCenterClient(yield* makeCenterClient, {
    workerId: assignment.workerId,
    address: `${remote.host}:${remote.port}`,
    callTimeoutMs: remote.callTimeoutMs,
    maxMessageBytes: remote.maxMessageBytes,
    onRegistered: (r) =>
      console.log(
        `${tag}: registered as incarnation ${r.incarnation}, ${r.resumeIteration > 0 ? `resuming at iteration ${r.resumeIteration}` : "starting"}` +
          (r.assignment ? `, reading records [${r.assignment.from}, ${r.assignment.to}) of epoch ${r.assignment.epoch}` : "")
      )
  })
  const result = yield* runTrainerLoop(client, trainer, {
    workerId: assignment.workerId,
    token: assignment.token,
    partition: assignment.partition,
    period: assignment.period,
    maxIter,
    adaptivePeriod: assignment.adaptivePeriod,
    ...(assignment.overlapExchange ? { overlapExchange: true } : {}),
    heartbeatEvery: Duration.millis(remote.heartbeatEveryMs),
    ...(assignment.join ? { join: true } : {}),
    leaveRequested: () => leaveRequested
  })
  console.log(
    `${tag}: ${result.left ? "left the job" : "finished"} at iteration ${result.iterations} after ${result.exchanges} exchanges${result.stoppedByCenter ? " (stopped by the center)" : ""}`
  )
  return result
}).pipe(
  Effect.scoped,
  Effect.provide(
    layerCenterClientProtocolTcp({ host: remote.host, port: remote.port, maxFrameBytes: remote.maxMessageBytes, ...(remote.tls !== undefined ? { tls: remote.tls } : {}) })
  ),
  Effect.withScheduler(ioScheduler)
)

/** Whether an error (or one it wraps) is the framing's "frame over the limit". */
const tooLarge = (e: unknown, depth = 0): boolean => {
  if (depth > 6 || e === null || typeof e !== "object") return false
  const o = e as { _tag?: unknown; reason?: unknown; cause?: unknown }
  if (o._tag === "RpcSerializationError" && o.reason === "BufferSizeExceeded") return true
  return tooLarge(Cause.isCause(o) ? Cause.squash(o) : o.cause, depth + 1)
}

Effect.runPromiseExit(main).then((exit) => {
  if (exit._tag === "Success") {
    process.send?.({ type: "done", result: exit.value })
    process.exit(childExit.done)
  }
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause))
  // Staging refused by the server, or a partition this worker cannot read: a restart cannot help.
  if (failure instanceof StagingFailed) {
    console.error(failure.message)
    process.exit(failure.permanent ? childExit.rejected : 1)
  }
  if (failure instanceof PermanentWorkerError) {
    console.error(`${tag}: ${failure.message}`)
    process.exit(childExit.rejected)
  }
  if (failure instanceof CenterRejected && failure.reason !== "stale" && failure.reason !== "unknown-worker") {
    console.error(`${tag}: rejected by the center (${failure.reason}): ${failure.message}`)
    process.exit(childExit.rejected)
  }
  const detail = String(exit.cause)
  if (tooLarge(failure)) {
    console.error(`${tag}: a message from the center exceeds this worker's limit of ${remote.maxMessageBytes} bytes (--max-message-mb)`)
    process.exit(childExit.rejected)
  }
  const message = failure instanceof Error ? failure.message : detail
  console.error(`${tag}: ${message}`)
  process.exit(1)
})
