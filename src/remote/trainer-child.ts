import { readSolverPrototxtSync } from "@deepspark/caffe"
import { RpcClientError } from "@effect/rpc/RpcClientError"
import { Duration, Effect } from "effect"
import { buildTrainer } from "../local/build-trainer.js"
import { runTrainerLoop } from "../trainer/trainer-loop.js"
import { CenterRejected } from "../transport/protocol.js"
import { layerCenterClientProtocolTcp, makeCenterClient, type CenterClient } from "../transport/tcp.js"
import { childExit, type RemoteTrainerAssignment } from "./remote-assignment.js"

/**
 * One incarnation of a remote trainer: build the LocalTrainer, connect to the center over TCP, run the
 * trainer loop (register → re-pull x̃ → resume from the last exchange's iteration/cursor → τ steps and
 * an exchange, …). Every call has a timeout, so a vanished center ends this process (and the parent
 * restarts it with backoff) instead of hanging it. Runs in its own process so that `kill -9` of the
 * computation is survivable.
 */
const remote = JSON.parse(process.argv[2] ?? "null") as RemoteTrainerAssignment
if (!remote?.assignment) {
  console.error("trainer-child: missing assignment argument")
  process.exit(2)
}
const { assignment } = remote
const tag = `worker ${assignment.workerId}`
// If the supervising `deepspark worker` dies, do not linger as an orphan.
process.on("disconnect", () => process.exit(1))

/** Bounds every call: a timeout becomes an RpcClientError, as a lost connection would. */
const withTimeouts = (client: CenterClient): CenterClient => {
  const bound = <A, E, R>(name: string, e: Effect.Effect<A, E, R>) =>
    e.pipe(
      Effect.timeoutFail({
        duration: Duration.millis(remote.callTimeoutMs),
        onTimeout: () => new RpcClientError({ reason: "Protocol", message: `${name}: no answer from ${remote.host}:${remote.port} within ${remote.callTimeoutMs} ms` })
      })
    )
  const limit = remote.maxMessageBytes
  return {
    ...client,
    Register: (p, o) =>
      bound("Register", client.Register(p, o)).pipe(
        Effect.tap((reply) =>
          Effect.sync(() => {
            const r = reply as { incarnation: number; resumeIteration: number }
            console.log(`${tag}: registered as incarnation ${r.incarnation}, ${r.resumeIteration > 0 ? `resuming at iteration ${r.resumeIteration}` : "starting"}`)
          })
        )
      ),
    Exchange: (p, o) =>
      // Refuse locally, with a clear error, a message the center would drop the connection for.
      p.params.byteLength + 4096 > limit
        ? Effect.fail(
            new CenterRejected({ reason: "size", message: `${tag}: an exchange of ${p.params.byteLength} bytes exceeds the message limit of ${limit} bytes (--max-message-mb)` })
          )
        : bound("Exchange", client.Exchange(p, o)),
    // Best effort: saying goodbye to a center that already closed is not a failure.
    Stop: (p, o) => bound("Stop", client.Stop(p, o)).pipe(Effect.catchAll(() => Effect.void)),
    Heartbeat: (p, o) => bound("Heartbeat", client.Heartbeat(p, o)),
    Report: (p, o) => bound("Report", client.Report(p, o))
  } as CenterClient
}

const main = Effect.gen(function* () {
  const spec = assignment.spec
  if (spec.kind === "caffe") yield* Effect.promise(() => import("../local/engine-trainer.js"))
  const maxIter =
    assignment.maxIter > 0 ? assignment.maxIter : spec.kind === "caffe" ? Number(readSolverPrototxtSync(spec.solverPath).max_iter ?? 0) : 0
  if (!(maxIter > 0)) return yield* Effect.dieMessage(`${tag}: no max_iter (give --max-iter)`)
  const trainer = yield* Effect.promise(() => buildTrainer(spec, assignment.partition))
  const client = withTimeouts(yield* makeCenterClient)
  const result = yield* runTrainerLoop(client, trainer, {
    workerId: assignment.workerId,
    token: assignment.token,
    partition: assignment.partition,
    period: assignment.period,
    maxIter,
    adaptivePeriod: assignment.adaptivePeriod,
    heartbeatEvery: Duration.millis(remote.heartbeatEveryMs)
  })
  console.log(
    `${tag}: finished at iteration ${result.iterations} after ${result.exchanges} exchanges${result.stoppedByCenter ? " (stopped by the center)" : ""}`
  )
  return result
}).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: remote.host, port: remote.port, maxFrameBytes: remote.maxMessageBytes })))

Effect.runPromiseExit(main).then((exit) => {
  if (exit._tag === "Success") {
    process.send?.({ type: "done", result: exit.value })
    process.exit(childExit.done)
  }
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure instanceof CenterRejected && failure.reason !== "stale" && failure.reason !== "unknown-worker") {
    console.error(`${tag}: rejected by the center (${failure.reason}): ${failure.message}`)
    process.exit(childExit.rejected)
  }
  const message = failure instanceof Error ? failure.message : String(exit.cause)
  console.error(`${tag}: ${message}`)
  process.exit(1)
})
