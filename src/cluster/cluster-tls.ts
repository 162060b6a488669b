import * as Runners from "@effect/cluster/Runners"
import * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import * as NodeSocket from "@effect/platform-node-shared/NodeSocket"
import * as RpcClient from "@effect/rpc/RpcClient"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { Effect, Layer } from "effect"
import tls from "node:tls"
import { makeTcpSocketServer } from "../transport/tcp-socket.js"
import { tlsClientOptions, type TlsFiles } from "../transport/tls-options.js"

/**
 * The cluster's own transport (runner ↔ runner, driver → runner: shard messages, pings, replies) over
 * mutual TLS, in place of @effect/platform-node's NodeClusterSocket layers (plain TCP). Every member
 * has a certificate signed by the cluster's CA (`--tls-cert/--tls-key/--tls-ca`): a runner serves with
 * its own and accepts only peers that present one the CA signed; a member connecting to a runner
 * checks the runner's certificate (its name or IP must match the advertised address) and shows its own.
 */

/** How a member connects to another runner: like NodeClusterSocket.layerClientProtocol, over TLS. */
export const layerClusterClientProtocolTls = (files: TlsFiles): Layer.Layer<Runners.RpcClientProtocol, never, RpcSerialization.RpcSerialization> =>
  Layer.effect(
    Runners.RpcClientProtocol,
    Effect.gen(function* () {
      const serialization = yield* RpcSerialization.RpcSerialization
      return (address) =>
        Effect.gen(function* () {
          const socket = yield* NodeSocket.fromDuplex(
            Effect.acquireRelease(
              Effect.async<tls.TLSSocket, Socket.SocketError>((resume) => {
                const secure = tls.connect({ host: address.host, port: address.port, ...tlsClientOptions(files, address.host) })
                secure.setNoDelay(true)
                secure.once("secureConnect", () => resume(Effect.succeed(secure)))
                secure.once("error", (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause }))))
                return Effect.sync(() => secure.destroy())
              }),
              (secure) => Effect.sync(() => secure.destroy())
            ),
            // As NodeClusterSocket's: a runner that does not answer within a second is unreachable.
            { openTimeout: 1000 }
          )
          return yield* RpcClient.makeProtocolSocket().pipe(
            Effect.provideService(Socket.Socket, socket),
            Effect.provideService(RpcSerialization.RpcSerialization, serialization)
          )
        })
    })
  )

/** A runner's listening socket over TLS; with `files.ca`, peers without a certificate it signed are refused. */
export const layerClusterSocketServerTls = (listen: { readonly host: string; readonly port: number }, files: TlsFiles): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.scoped(SocketServer.SocketServer, makeTcpSocketServer({ host: listen.host, port: listen.port, tls: files }))
