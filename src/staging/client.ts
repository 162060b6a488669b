import * as RpcClient from "@effect/rpc/RpcClient"
import { RpcClientError } from "@effect/rpc/RpcClientError"
import * as NodeSocket from "@effect/platform-node-shared/NodeSocket"
import { PartitionError, describeRef, stageRemotePartition, type PartitionManifest, type RemoteStaged, type StagingFetcher, type StagingRef } from "@deepspark/data"
import { Duration, Effect, Layer } from "effect"
import * as Socket from "@effect/platform/Socket"
import { layerLengthPrefixedMsgPack, type FramingOptions } from "../transport/framing.js"
import { connectTcp } from "../transport/tcp-socket.js"
import type { TlsFiles } from "../transport/tls-options.js"
import { StagingRejected, StagingRpcs } from "./protocol.js"

/** A worker's StagingRpcs client over TCP, and the fetcher stageRemotePartition reads through. */

/** With `tls`, over TLS: the server's certificate is checked against `tls.ca` (and this client's is shown). */
export const layerStagingClientProtocolTcp = (options: { host: string; port: number; tls?: TlsFiles } & FramingOptions) => {
  const maxFrameBytes = options.maxFrameBytes ?? 80 * 1024 * 1024
  return RpcClient.layerProtocolSocket({ retryTransientErrors: true }).pipe(
    Layer.provide(
      options.tls !== undefined
        ? Layer.effect(Socket.Socket, connectTcp({ host: options.host, port: options.port, maxFrameBytes, tls: options.tls }))
        : NodeSocket.layerNet({ host: options.host, port: options.port, noDelay: true })
    ),
    Layer.provide(layerLengthPrefixedMsgPack({ maxFrameBytes }))
  )
}

export const makeStagingClient = RpcClient.make(StagingRpcs)
export type StagingClient = Effect.Effect.Success<typeof makeStagingClient>

export interface StagingFetcherOptions {
  readonly token: string
  /** Where the server is, for messages. */
  readonly address: string
  /**
   * A call with no answer for this long fails (default 60 s): the client reconnects on its own, so a
   * vanished server would otherwise hold the transfer forever; the failed call leaves a resumable file.
   */
  readonly callTimeoutMs?: number
}

export const rpcStagingFetcher = (client: StagingClient, options: StagingFetcherOptions): StagingFetcher<StagingRejected | RpcClientError> => {
  const ms = options.callTimeoutMs ?? 60_000
  const bound = <A, E>(name: string, e: Effect.Effect<A, E>) =>
    e.pipe(
      Effect.timeoutFail({
        duration: Duration.millis(ms),
        onTimeout: () => new RpcClientError({ reason: "Protocol", message: `${name}: no answer from the staging server at ${options.address} within ${ms} ms` })
      })
    )
  return {
    manifest: (ref) => bound("PartitionManifest", client.PartitionManifest({ token: options.token, ...ref })),
    chunk: (ref, from, maxBytes) => bound("PartitionChunk", client.PartitionChunk({ token: options.token, ...ref, from, maxBytes }))
  }
}

export interface StageOverTcpOptions extends FramingOptions {
  readonly host: string
  readonly port: number
  readonly tls?: TlsFiles
  readonly token: string
  readonly worker: string
  readonly ref: StagingRef
  readonly target: string
  readonly chunkBytes?: number
  readonly callTimeoutMs?: number
  readonly expected?: PartitionManifest
}

/** Connects, stages one partition into `target` (resuming a previous attempt), disconnects. */
export const stageOverTcp = (options: StageOverTcpOptions): Effect.Effect<RemoteStaged, PartitionError> =>
  Effect.gen(function* () {
    const client = yield* makeStagingClient
    const fetcher = rpcStagingFetcher(client, {
      token: options.token,
      address: `${options.host}:${options.port}`,
      ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {})
    })
    return yield* stageRemotePartition({
      fetcher,
      worker: options.worker,
      ref: options.ref,
      target: options.target,
      ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {}),
      ...(options.expected !== undefined ? { expected: options.expected } : {})
    })
  }).pipe(
    Effect.scoped,
    Effect.provide(layerStagingClientProtocolTcp(options)),
    Effect.mapError((e) =>
      e instanceof PartitionError
        ? e
        : new PartitionError({
            worker: options.worker,
            partition: describeRef(options.ref),
            message: `worker "${options.worker}" cannot reach the staging server at ${options.host}:${options.port} for ${describeRef(options.ref)}: ${e.message}`
          })
    )
  )
