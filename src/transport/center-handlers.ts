import type * as Rpc from "@effect/rpc/Rpc"
import type * as RpcGroup from "@effect/rpc/RpcGroup"
import { Effect, Exit, type Layer } from "effect"
import { releaseTensor, takeTensor } from "./buffer-pool.js"
import { CenterRpcs, type CenterRejected, type Exchange, type Heartbeat, type Register, type Report, type Snapshot, type Stop } from "./center-rpcs.js"

/**
 * What serving CenterRpcs asks of a center: one function per message. The center's service implements
 * it (../center/center-service.ts) and is passed in; the transport knows nothing else of the center.
 * The transport keeps the ownership of its pooled buffers to itself: it lends the center a pooled
 * tensor for each exchange's reply, and takes a request's received tensor back once it is answered.
 */
export interface CenterEndpoint {
  readonly register: (p: Rpc.Payload<typeof Register>) => Effect.Effect<Rpc.Success<typeof Register>, CenterRejected>
  /** `replyTensor(n)` gives the n floats the reply's x̃ is written to (sent, never kept). */
  readonly exchange: (
    p: Rpc.Payload<typeof Exchange>,
    replyTensor: (n: number) => Float32Array
  ) => Effect.Effect<Rpc.Success<typeof Exchange>, CenterRejected>
  readonly report: (p: Rpc.Payload<typeof Report>) => Effect.Effect<void, CenterRejected>
  readonly heartbeat: (p: Rpc.Payload<typeof Heartbeat>) => Effect.Effect<Rpc.Success<typeof Heartbeat>, CenterRejected>
  readonly snapshot: (token: Rpc.Payload<typeof Snapshot>["token"]) => Effect.Effect<Rpc.Success<typeof Snapshot>, CenterRejected>
  readonly stopWorker: (p: Rpc.Payload<typeof Stop>) => Effect.Effect<void, CenterRejected>
}

/** Handlers for every CenterRpcs message (centerRpcHandlers of a center, or a test's own). */
export type CenterHandlers<R> = Layer.Layer<Rpc.ToHandler<RpcGroup.Rpcs<typeof CenterRpcs>>, never, R>

/** The CenterRpcs handlers of the endpoint `endpoint` builds. */
export const centerRpcHandlers = <R>(endpoint: Effect.Effect<CenterEndpoint, never, R>): CenterHandlers<R> =>
  CenterRpcs.toLayer(
    Effect.map(endpoint, (center) =>
      CenterRpcs.of({
        Register: (p) => center.register(p),
        // Nothing reads x_i once the exchange is answered (the center copies what it keeps), so its
        // received frame goes back to the buffer pool. Not when interrupted: a synchronous round may
        // still hold the request of a worker that disconnected while waiting.
        Exchange: (p) =>
          center
            .exchange(p, takeTensor)
            .pipe(Effect.onExit((exit) => (Exit.isInterrupted(exit) ? Effect.void : Effect.sync(() => releaseTensor(p.params))))),
        Report: (p) => center.report(p),
        Heartbeat: (p) => center.heartbeat(p),
        Snapshot: (p) => center.snapshot(p.token),
        Stop: (p) => center.stopWorker(p)
      })
    )
  )
