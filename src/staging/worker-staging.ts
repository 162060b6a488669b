import { existsSync, mkdirSync } from "node:fs"
import { connect } from "node:net"
import path from "node:path"
import { describeRef, stageRemotePartition, type RemoteStaged, type StagingFetcher, type StagingRef } from "@deepspark/data"
import { Effect } from "effect"
import { layerStagingClientProtocolTcp, makeStagingClient, rpcStagingFetcher } from "./client.js"
import { StagingRejected } from "./protocol.js"
import type { TlsFiles } from "../transport/tls-options.js"
import { StagingFailed } from "./staging-failed.js"
import { stagedPartitionName, stagingSourcePath, trainDataLayers } from "./train-data.js"

/**
 * A worker's `--stage-from HOST:PORT --stage-to DIR`: before training, each train-net Data layer's
 * partition i/N (the range partition its Data layer would read: Dataset.partition's plan) is staged from
 * the staging server into `DIR/<stagedPartitionName>` as a verified Caffe LMDB, and the layer then reads
 * that copy (TrainerSpec.stagedData). A copy already staged and verifiable is used without the server;
 * an interrupted transfer resumes where it stopped.
 */

export interface StageTrainDataOptions {
  readonly solverPath: string
  /** Where the prototxts' relative paths resolve (Caffe: the working directory). */
  readonly cwd: string
  readonly partition: { readonly index: number; readonly count: number }
  readonly worker: string
  /** The run's token (the center's). */
  readonly token: string
  readonly server: { readonly host: string; readonly port: number }
  /** Reach the server over TLS (the worker's `--tls-ca`, and its own certificate if the server asks). */
  readonly tls?: TlsFiles
  /** Folder of the staged copies (relative to cwd). */
  readonly dir: string
  /** A call with no answer for this long fails (default 60 s); the next attempt resumes. */
  readonly callTimeoutMs?: number
  readonly chunkBytes?: number
  readonly log?: (line: string) => void
}

/** Resolves when a TCP connection to the server opens: a clear, fast error when nothing listens there. */
const probe = (host: string, port: number, timeoutMs: number) =>
  Effect.async<void, Error>((resume) => {
    const socket = connect({ host, port })
    const done = (e?: Error) => {
      socket.destroy()
      resume(e ? Effect.fail(e) : Effect.void)
    }
    socket.setTimeout(timeoutMs, () => done(new Error(`no connection within ${timeoutMs} ms`)))
    socket.once("connect", () => done())
    socket.once("error", (e) => done(e))
    return Effect.sync(() => socket.destroy())
  })

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ")

/** Stages every training Data layer's partition; returns layer name → staged LMDB (absolute path). */
export const stageTrainData = (options: StageTrainDataOptions): Effect.Effect<Record<string, string>, StagingFailed> =>
  Effect.gen(function* () {
    const { server, partition, worker } = options
    const address = `${server.host}:${server.port}`
    const log = options.log ?? (() => {})
    const timeoutMs = options.callTimeoutMs ?? 60_000
    const layers = yield* Effect.try({
      try: () => trainDataLayers(options.solverPath, options.cwd),
      catch: (e) => new StagingFailed({ message: oneLine(`worker ${worker}: cannot stage training data: ${(e as Error).message}`), permanent: true })
    })
    const staged: Record<string, string> = {}
    const done = new Map<string, string>()
    for (const { layer, source, backend } of layers) {
      // Two layers reading one database share its staged copy.
      const key = `${backend}:${source}`
      const known = done.get(key)
      if (known !== undefined) {
        staged[layer] = known
        continue
      }
      const what = `${source} (Data layer "${layer}", range partition ${partition.index}/${partition.count})`
      const ref: StagingRef = yield* Effect.try({
        try: () => ({ source: stagingSourcePath(source), backend, index: partition.index, count: partition.count, mode: "range" as const }),
        catch: (e) => new StagingFailed({ message: `worker ${worker}: cannot stage ${what} from ${address}: ${(e as Error).message}`, permanent: true })
      })
      const target = path.resolve(options.cwd, options.dir, stagedPartitionName(source, partition))
      const existed = existsSync(target)
      if (!existed) {
        yield* probe(server.host, server.port, timeoutMs).pipe(
          Effect.mapError(
            (e) => new StagingFailed({ message: oneLine(`worker ${worker}: cannot reach the staging server at ${address} to stage ${what}: ${e.message}`), permanent: false })
          )
        )
        yield* Effect.try({
          try: () => mkdirSync(path.dirname(target), { recursive: true }),
          catch: (e) => new StagingFailed({ message: oneLine(`worker ${worker}: cannot create ${path.dirname(target)} for ${what}: ${(e as Error).message}`), permanent: true })
        })
      }
      // The server's refusal, if any, is the message (and makes the failure permanent).
      let rejected: StagingRejected | undefined
      const result: RemoteStaged = yield* Effect.gen(function* () {
        const inner = rpcStagingFetcher(yield* makeStagingClient, { token: options.token, address, callTimeoutMs: timeoutMs })
        const noteRejection = <A, E>(e: Effect.Effect<A, E>) =>
          e.pipe(Effect.tapError((err) => Effect.sync(() => (rejected = err instanceof StagingRejected ? err : rejected))))
        const fetcher: StagingFetcher<unknown> = {
          manifest: (r) => noteRejection(inner.manifest(r)),
          chunk: (r, from, maxBytes) => noteRejection(inner.chunk(r, from, maxBytes))
        }
        return yield* stageRemotePartition({
          fetcher,
          worker,
          ref,
          target,
          ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {})
        })
      }).pipe(
        Effect.scoped,
        Effect.provide(layerStagingClientProtocolTcp({ host: server.host, port: server.port, ...(options.tls !== undefined ? { tls: options.tls } : {}) })),
        Effect.mapError((e) => {
          if (rejected !== undefined) {
            return new StagingFailed({
              message: oneLine(`worker ${worker}: the staging server at ${address} refused to stage ${what}: ${rejected.message} (${rejected.reason})`),
              permanent: true
            })
          }
          // A copy that was already there and does not verify will not get better by trying again.
          return new StagingFailed({ message: oneLine(`${e.message} (staging server ${address})`), permanent: existed })
        })
      )
      const m = result.manifest
      log(
        result.alreadyStaged
          ? `worker ${worker}: ${describeRef(ref)} already staged at ${target} (${m.count} records, keys ${m.firstKey} … ${m.lastKey}, verified; no server needed)`
          : `worker ${worker}: staged ${describeRef(ref)} from ${address} into ${target}: ${m.count} records, keys ${m.firstKey} … ${m.lastKey}, ` +
              `sha256 ${m.sha256.slice(0, 12)}…, ${result.fetchedChunks} chunk(s)${result.resumedFrom > 0 ? `, resumed at record ${result.resumedFrom}` : ""}`
      )
      staged[layer] = target
      done.set(key, target)
    }
    if (layers.length === 0) log(`worker ${worker}: the train net has no Data layer; nothing to stage`)
    return staged
  })
