import * as SocketServer from "@effect/platform/SocketServer"
import * as RpcServer from "@effect/rpc/RpcServer"
import { partitionServer, StagingSourceError, type PartitionServerOptions, type StagingRef } from "@deepspark/data"
import { Effect, Layer } from "effect"
import { layerLengthPrefixedMsgPack, type FramingOptions } from "../transport/framing.js"
import { makeTcpSocketServer } from "../transport/tcp-socket.js"
import type { TlsFiles } from "../transport/tls-options.js"
import { StagingRejected, StagingRpcs } from "./protocol.js"

/**
 * The staging server: StagingRpcs handlers over @deepspark/data's partitionServer (any Caffe LMDB or
 * LevelDB under `root`, partitioned by Dataset.partition, manifests cached), checking the shared token
 * on every request.
 *
 * It listens on its own port (`serveStagingTcp`), in the center's process or any other: it needs no
 * center (the driver stages before training starts), its frame limit is sized for chunks rather than
 * for parameter tensors, and bulk record traffic never shares a connection with exchanges.
 */

export interface StagingServerOptions extends PartitionServerOptions {
  /** The run's shared secret (the center's token); "" accepts only "". */
  readonly token: string
}

const rejectedFrom = (e: unknown): StagingRejected =>
  e instanceof StagingSourceError
    ? new StagingRejected({ reason: e.reason, message: e.message })
    : new StagingRejected({ reason: "bad-request", message: e instanceof Error ? e.message : String(e) })

/** The handlers as a Layer (the partitionServer's databases close with it). */
export const layerStagingHandlers = (options: StagingServerOptions) =>
  StagingRpcs.toLayer(
    Effect.gen(function* () {
      const server = yield* Effect.acquireRelease(
        Effect.sync(() => partitionServer(options)),
        (s) => Effect.promise(() => s.close())
      )
      const authorised = (token: string) =>
        token === options.token ? Effect.void : Effect.fail(new StagingRejected({ reason: "auth", message: "wrong staging token" }))
      const refOf = (p: StagingRef): StagingRef => ({ source: p.source, backend: p.backend, index: p.index, count: p.count, mode: p.mode })
      return {
        PartitionManifest: (p) =>
          authorised(p.token).pipe(Effect.zipRight(Effect.tryPromise({ try: () => server.manifest(refOf(p)), catch: rejectedFrom }))),
        PartitionChunk: (p) =>
          authorised(p.token).pipe(
            Effect.zipRight(Effect.tryPromise({ try: () => server.chunk(refOf(p), p.from, p.maxBytes), catch: rejectedFrom }))
          )
      }
    })
  )

export interface StagingListenOptions extends StagingServerOptions, FramingOptions {
  readonly host?: string
  readonly port: number
  /** Serve over TLS with this certificate and key (a CA: clients must present a certificate it signed). */
  readonly tls?: TlsFiles
}

/** Serves StagingRpcs on a TCP socket for the enclosing scope; returns the bound address. */
export const serveStagingTcp = (options: StagingListenOptions) =>
  Effect.gen(function* () {
    // Connections that have not sent the token are bounded in frame size, number and time (admission.ts).
    const server = yield* makeTcpSocketServer({
      host: options.host ?? "127.0.0.1",
      port: options.port,
      admission: { token: options.token },
      ...(options.tls !== undefined ? { tls: options.tls } : {})
    })
    yield* Layer.build(
      RpcServer.layer(StagingRpcs, { concurrency: "unbounded" }).pipe(
        Layer.provide(layerStagingHandlers(options)),
        Layer.provide(RpcServer.layerProtocolSocketServer),
        Layer.provide(Layer.succeed(SocketServer.SocketServer, server)),
        // Default limit: the largest chunk a client may ask for, plus room for the envelope.
        Layer.provide(layerLengthPrefixedMsgPack({ maxFrameBytes: options.maxFrameBytes ?? 80 * 1024 * 1024 }))
      )
    )
    const address = server.address
    return address._tag === "TcpAddress" ? { host: address.hostname, port: address.port } : { host: "", port: 0 }
  })
