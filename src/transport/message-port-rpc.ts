import * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import * as RpcClient from "@effect/rpc/RpcClient"
import * as RpcServer from "@effect/rpc/RpcServer"
import { Effect, Layer } from "effect"
import type { MessagePort } from "node:worker_threads"
import { layerLengthPrefixedMsgPack } from "./framing.js"
import { makeMessagePortSocketServer, socketFromMessagePort } from "./message-port-socket.js"
import { CenterRpcs } from "./center-rpcs.js"
import type { CenterHandlers } from "./center-handlers.js"

/**
 * CenterRpcs over worker_threads MessagePorts (local mode, and the MessagePort soak test): the same
 * framed RPC as TCP mode (tcp.ts), with each worker thread's port as its connection.
 */

/** Serves CenterRpcs with the given handlers (scoped); returns `accept`, which takes one worker's port. */
export const serveCenterRpcsOverMessagePorts = <R>(handlers: CenterHandlers<R>) =>
  Effect.gen(function* () {
    const { server, accept } = yield* makeMessagePortSocketServer
    yield* Layer.build(
      RpcServer.layer(CenterRpcs, { concurrency: "unbounded" }).pipe(
        Layer.provide(handlers),
        Layer.provide(RpcServer.layerProtocolSocketServer),
        Layer.provide(Layer.succeed(SocketServer.SocketServer, server)),
        Layer.provide(layerLengthPrefixedMsgPack())
      )
    )
    return accept
  })

/** The protocol layer a worker thread needs to call the center over its MessagePort. */
export const layerCenterClientProtocolMessagePort = (port: MessagePort) =>
  RpcClient.layerProtocolSocket().pipe(
    Layer.provide(Layer.effect(Socket.Socket, socketFromMessagePort(port))),
    Layer.provide(layerLengthPrefixedMsgPack())
  )
