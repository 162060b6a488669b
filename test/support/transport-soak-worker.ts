/**
 * Worker-thread side of the MessagePort soak test (loaded by src/launch/source-thread.mjs through
 * workerData.entry): the soak worker loop over the same framed RPC local mode uses, reporting each
 * completed exchange to the parent so the test can terminate a thread mid-run.
 */
import { Effect } from "effect"
import { parentPort, workerData, type MessagePort } from "node:worker_threads"
import { layerCenterClientProtocolMessagePort } from "../../src/transport/message-port-rpc.js"
import { makeCenterClient } from "../../src/transport/tcp.js"
import { soakWorker } from "./transport-soak.js"

const { port, workerId, n, exchanges, minDurationMs } = workerData as {
  port: MessagePort
  workerId: string
  n: number
  exchanges: number
  minDurationMs?: number
}

const main = Effect.gen(function* () {
  const client = yield* makeCenterClient
  return yield* soakWorker(client, {
    workerId,
    n,
    exchanges,
    ...(minDurationMs ? { minDurationMs } : {}),
    onExchange: (seq) => parentPort?.postMessage({ type: "exchange", seq })
  })
}).pipe(
  Effect.scoped,
  Effect.provide(layerCenterClientProtocolMessagePort(port))
)

Effect.runPromise(main).then(
  (result) => {
    parentPort?.postMessage({ type: "done", result })
    process.exit(0)
  },
  (e) => {
    parentPort?.postMessage({ type: "failed", message: e instanceof Error ? e.message : String(e) })
    process.exit(1)
  }
)
