import { NodeSocket, NodeSocketServer } from "@effect/platform-node"
import { SocketServer } from "@effect/platform"
import { RpcClient, RpcServer } from "@effect/rpc"
import { Context, Effect, Layer } from "effect"
import { CenterHandlersLive } from "../center/center-service.js"
import { layerLengthPrefixedMsgPack, type FramingOptions } from "./framing.js"
import { CenterRpcs } from "./protocol.js"

/**
 * The center's RPC endpoint over TCP (multi-process / multi-host mode) and the workers' client.
 * Loopback unless the operator names another address; messages are length-prefixed msgpack with a
 * size limit; workers authenticate with the shared token on every call.
 */

export interface ListenOptions extends FramingOptions {
  readonly host?: string
  readonly port: number
}

export const parseHostPort = (s: string, what: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s.trim())
  if (!m) throw new Error(`${what}: expected HOST:PORT, got ${JSON.stringify(s)}`)
  const port = Number(m[3])
  if (!(port >= 0 && port < 65536)) throw new Error(`${what}: port ${port} out of range`)
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port }
}

/** Handlers for every CenterRpcs message (CenterHandlersLive, or a test's own). */
export type CenterHandlers<R> = Layer.Layer<Layer.Layer.Success<typeof CenterHandlersLive>, never, R>

/** Serves CenterRpcs on a TCP socket; needs the Center service. Returns the bound address. */
export const serveCenterTcp = (options: ListenOptions) => serveCenterRpcsTcp(options, CenterHandlersLive)

/** Serves CenterRpcs with the given handlers on a TCP socket. Returns the bound address. */
export const serveCenterRpcsTcp = <R>(options: ListenOptions, handlers: CenterHandlers<R>) =>
  Effect.gen(function* () {
    const socketServer = yield* Layer.build(NodeSocketServer.layer({ host: options.host ?? "127.0.0.1", port: options.port, noDelay: true }))
    const server = Context.get(socketServer, SocketServer.SocketServer)
    yield* Layer.build(
      RpcServer.layer(CenterRpcs, { concurrency: "unbounded" }).pipe(
        Layer.provide(handlers),
        Layer.provide(RpcServer.layerProtocolSocketServer),
        Layer.provide(Layer.succeedContext(socketServer)),
        Layer.provide(layerLengthPrefixedMsgPack(options))
      )
    )
    const address = server.address
    return address._tag === "TcpAddress" ? { host: address.hostname, port: address.port } : { host: "", port: 0 }
  })

/** The protocol layer a worker needs to call the center over TCP. */
export const layerCenterClientProtocolTcp = (options: { host: string; port: number } & FramingOptions) =>
  RpcClient.layerProtocolSocket({ retryTransientErrors: true }).pipe(
    Layer.provide(NodeSocket.layerNet({ host: options.host, port: options.port, noDelay: true })),
    Layer.provide(layerLengthPrefixedMsgPack(options))
  )

/** A typed CenterRpcs client (scoped; provide the protocol layer around the whole program). */
export const makeCenterClient = RpcClient.make(CenterRpcs)
export type CenterClient = Effect.Effect.Success<typeof makeCenterClient>
