import * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import * as RpcClient from "@effect/rpc/RpcClient"
import * as RpcServer from "@effect/rpc/RpcServer"
import { Effect, Layer } from "effect"
import type { AdmissionLimits } from "./admission.js"
import type { CenterHandlers } from "./center-handlers.js"
import type { TlsFiles } from "./tls-options.js"
import { layerLengthPrefixedMsgPack, maxFrameBytes, type FramingOptions } from "./framing.js"
import { CenterRpcs } from "./center-rpcs.js"
import { connectTcp, makeTcpSocketServer } from "./tcp-socket.js"

/**
 * The center's RPC endpoint over TCP (multi-process / multi-host mode) and the workers' client.
 * Loopback unless the operator names another address; messages are length-prefixed msgpack with a
 * size limit; workers authenticate with the shared token on every call. Both ends set noDelay and hand
 * pooled send frames back once written (tcp-socket.ts).
 */

export interface ListenOptions extends FramingOptions {
  readonly host?: string
  readonly port: number
  /** Bounds on connections that have not yet sent the token (admission.ts; serveCenterRpcsTcp's `token`). */
  readonly admission?: AdmissionLimits
  /** Serve TLS (tls-options.ts: cert and key, and a CA to require client certificates). */
  readonly tls?: TlsFiles
}

export const parseHostPort = (s: string, what: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s.trim())
  if (!m) throw new Error(`${what}: expected HOST:PORT, got ${JSON.stringify(s)}`)
  const port = Number(m[3])
  if (!(port >= 0 && port < 65536)) throw new Error(`${what}: port ${port} out of range`)
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port }
}

/**
 * Serves CenterRpcs with the given handlers on a TCP socket. Returns the bound address. With `token`,
 * connections that have not sent it are bounded (admission.ts).
 */
export const serveCenterRpcsTcp = <R>(options: ListenOptions, handlers: CenterHandlers<R>, token?: string) =>
  Effect.gen(function* () {
    const server = yield* makeTcpSocketServer({
      host: options.host ?? "127.0.0.1",
      port: options.port,
      ...(token !== undefined ? { admission: { ...options.admission, token } } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {})
    })
    yield* Layer.build(
      RpcServer.layer(CenterRpcs, { concurrency: "unbounded" }).pipe(
        Layer.provide(handlers),
        Layer.provide(RpcServer.layerProtocolSocketServer),
        Layer.provide(Layer.succeed(SocketServer.SocketServer, server)),
        Layer.provide(layerLengthPrefixedMsgPack(options))
      )
    )
    const address = server.address
    return address._tag === "TcpAddress" ? { host: address.hostname, port: address.port } : { host: "", port: 0 }
  })

/** The protocol layer a worker needs to call the center over TCP. */
export const layerCenterClientProtocolTcp = (options: { host: string; port: number; tls?: TlsFiles } & FramingOptions) =>
  RpcClient.layerProtocolSocket({ retryTransientErrors: true }).pipe(
    Layer.provide(
      Layer.effect(
        Socket.Socket,
        connectTcp({ host: options.host, port: options.port, maxFrameBytes: maxFrameBytes(options), ...(options.tls !== undefined ? { tls: options.tls } : {}) })
      )
    ),
    Layer.provide(layerLengthPrefixedMsgPack(options))
  )

/** A typed CenterRpcs client (scoped; provide the protocol layer around the whole program). */
export const makeCenterClient = RpcClient.make(CenterRpcs)
export type CenterClient = Effect.Effect.Success<typeof makeCenterClient>
