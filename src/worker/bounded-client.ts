import { RpcClientError } from "@effect/rpc/RpcClientError"
import { Duration, Effect } from "effect"
import { CenterRejected } from "../transport/center-rpcs.js"
import type { CenterClient } from "../transport/tcp.js"

/**
 * A remote trainer's view of the center client: every call bounded by a timeout (a vanished center
 * then fails the call like a lost connection, instead of hanging the trainer forever), exchanges over
 * the message limit refused before sending with a clear error (the center would only close the
 * connection), and Stop made best-effort (saying goodbye to a center that already closed is fine).
 */
export interface BoundedClientOptions {
  readonly workerId: string
  /** Where the center is, for error messages. */
  readonly address: string
  readonly callTimeoutMs: number
  readonly maxMessageBytes: number
  readonly onRegistered?: (reply: { incarnation: number; resumeIteration: number; assignment?: { from: number; to: number; epoch: number } | null | undefined }) => void
}

/** msgpack map keys, identity strings, numbers: generous room for everything but the tensor. */
const ENVELOPE_BYTES = 4096

export const boundCenterClient = (client: CenterClient, options: BoundedClientOptions): CenterClient => {
  const bound = <A, E, R>(name: string, e: Effect.Effect<A, E, R>) =>
    e.pipe(
      Effect.timeoutFail({
        duration: Duration.millis(options.callTimeoutMs),
        onTimeout: () => new RpcClientError({ reason: "Protocol", message: `${name}: no answer from the center at ${options.address} within ${options.callTimeoutMs} ms` })
      })
    )
  const limit = options.maxMessageBytes
  // The client's methods are generic over a `discard` option; these wrappers keep each method's
  // parameters and widen nothing but the error channel's content, hence the casts at the end.
  const bounded = {
    Register: (p: Parameters<CenterClient["Register"]>[0], o?: Parameters<CenterClient["Register"]>[1]) =>
      bound("Register", client.Register(p, o)).pipe(
        Effect.tap((reply) => Effect.sync(() => options.onRegistered?.(reply as { incarnation: number; resumeIteration: number; assignment?: { from: number; to: number; epoch: number } | null })))
      ),
    Exchange: (p: Parameters<CenterClient["Exchange"]>[0], o?: Parameters<CenterClient["Exchange"]>[1]) =>
      (p.params.byteLength + ENVELOPE_BYTES > limit
        ? Effect.fail(
            new CenterRejected({
              reason: "size",
              message: `worker "${options.workerId}": an exchange of ${p.params.byteLength} bytes exceeds the message limit of ${limit} bytes (--max-message-mb)`
            })
          )
        : bound("Exchange", client.Exchange(p, o))),
    Stop: (p: Parameters<CenterClient["Stop"]>[0], o?: Parameters<CenterClient["Stop"]>[1]) => bound("Stop", client.Stop(p, o)).pipe(Effect.catchAll(() => Effect.void)),
    Heartbeat: (p: Parameters<CenterClient["Heartbeat"]>[0], o?: Parameters<CenterClient["Heartbeat"]>[1]) => bound("Heartbeat", client.Heartbeat(p, o)),
    Report: (p: Parameters<CenterClient["Report"]>[0], o?: Parameters<CenterClient["Report"]>[1]) => bound("Report", client.Report(p, o))
  }
  return { ...client, ...bounded } as unknown as CenterClient
}
