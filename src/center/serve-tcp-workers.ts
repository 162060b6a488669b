import { Effect } from "effect"
import { serveCenterRpcsTcp, type ListenOptions } from "../transport/tcp.js"
import type { TlsFiles } from "../transport/tls-options.js"
import { Center, CenterHandlersLive } from "./center-service.js"

/**
 * Serves the Center service's CenterRpcs on a TCP socket; its token authenticates connections
 * (../transport/admission.ts). Returns the bound address.
 */
export const serveCenterTcp = (options: ListenOptions) =>
  Effect.gen(function* () {
    const center = yield* Center
    return yield* serveCenterRpcsTcp(options, CenterHandlersLive, center.token)
  })

/**
 * The center's side of a run whose trainers are TCP workers (`deepspark worker` processes), as both
 * `deepspark center` (runCenter) and the driver's TcpWorkerPool run it: optionally a staging server for
 * the training data (its own address, the run's token, for the scope), then the center itself.
 */
export interface ServeTcpWorkersOptions {
  readonly host: string
  readonly port: number
  readonly token: string
  readonly maxFrameBytes?: number
  /** Serve the center over TLS (its certificate and key; a CA to require workers' certificates). */
  readonly tls?: TlsFiles
  /** Serve partitions of the databases under `root` to workers that stage them (`--serve-data`). */
  readonly serveData?: { readonly host: string; readonly port: number; readonly root: string }
}

export const serveTcpWorkers = (options: ServeTcpWorkersOptions) =>
  Effect.gen(function* () {
    let data: { readonly host: string; readonly port: number } | undefined
    const serveData = options.serveData
    if (serveData !== undefined) {
      // Loaded only when asked for: it brings the database readers.
      const { serveStagingTcp } = yield* Effect.promise(() => import("../staging/server.js"))
      data = yield* serveStagingTcp({
        host: serveData.host,
        port: serveData.port,
        token: options.token,
        root: serveData.root,
        // The same certificate as the center's: workers check both against their one --tls-ca.
        ...(options.tls !== undefined ? { tls: options.tls } : {})
      })
    }
    const center = yield* serveCenterTcp({
      host: options.host,
      port: options.port,
      ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {})
    })
    return { center, data }
  })
