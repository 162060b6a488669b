import * as NodeSocket from "@effect/platform-node-shared/NodeSocket"
import * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import { Deferred, Effect, Exit, FiberSet, Scope } from "effect"
import net from "node:net"
import tls from "node:tls"
import { tlsClientOptions, tlsServerOptions, type TlsFiles } from "./tls-options.js"
import { makeAdmission, type AdmissionOptions } from "./admission.js"
import { FrameReusedError, isRetiredFrame, releaseWrittenFrame, takeReceiveBuffer } from "./buffer-pool.js"

/**
 * TCP sockets for the RPC transport: @effect/platform-node's NodeSocket over node:net connections whose
 * pooled send frames go back to the pool once written (buffer-pool.ts). Node calls a write's callback
 * when the kernel has taken the bytes (or the write failed), after which nothing reads the buffer; a
 * frame written again after that is refused and the connection fails loudly.
 */
const releaseFramesOnceWritten = (conn: net.Socket): net.Socket => {
  const write = conn.write
  conn.write = function (this: net.Socket, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const done = (typeof encoding === "function" ? encoding : callback) as ((err?: Error | null) => void) | undefined
    if (isRetiredFrame(chunk)) {
      const error = new FrameReusedError()
      this.destroy(error)
      done?.(error)
      return false
    }
    const released = (err?: Error | null) => {
      releaseWrittenFrame(chunk)
      done?.(err)
    }
    return typeof encoding === "string"
      ? write.call(this, chunk as Uint8Array, encoding as BufferEncoding, released)
      : (write as (chunk: Uint8Array, cb: (err?: Error | null) => void) => boolean).call(this, chunk as Uint8Array, released)
  } as typeof conn.write
  return conn
}

/** Size of the reused buffer that small frames and frame headers are read into. */
const STAGING_BYTES = 64 * 1024

/**
 * Reads a connection's length-prefixed frames (framing.ts) with Node's `onread`: a large frame's bytes
 * land straight in the receive buffer the decoder will view them in (pooled, buffer-pool.ts), without a
 * 64 KB chunk allocated per read and a copy out of the chunks. Each frame is emitted as one 'data' event;
 * small frames are copied out of a reused staging buffer (which the next read overwrites). A frame over
 * `maxFrameBytes` is passed on as its 4-byte length only, which the decoder refuses with its usual
 * error, and its bytes are skipped.
 */
export const frameReader = (emit: (frame: Uint8Array) => void, maxFrameBytes: number) => {
  const staging = Buffer.allocUnsafeSlow(STAGING_BYTES)
  let end = 0
  let frame: Buffer | null = null
  let filled = 0
  let skip = 0
  return {
    buffer: (): Uint8Array => (frame ? frame.subarray(filled) : staging.subarray(end)),
    callback: (nread: number): boolean => {
      if (frame) {
        filled += nread
        if (filled === frame.length) {
          const whole = frame
          frame = null
          emit(whole)
        }
        return true
      }
      end += nread
      let o = 0
      for (;;) {
        if (skip > 0) {
          const d = Math.min(skip, end - o)
          skip -= d
          o += d
          if (skip > 0) break
        }
        if (end - o < 4) break
        const length = staging.readUInt32BE(o)
        if (length > maxFrameBytes) {
          emit(Buffer.from(staging.subarray(o, o + 4)))
          skip = 4 + length
          continue
        }
        const need = 4 + length
        if (end - o >= need) {
          emit(Buffer.from(staging.subarray(o, o + need))) // a copy: staging is read into again
          o += need
          continue
        }
        if (need <= STAGING_BYTES) break // the rest follows into staging
        frame = takeReceiveBuffer(need)
        staging.copy(frame, 0, o, end)
        filled = end - o
        o = end
        break
      }
      if (o > 0) {
        staging.copy(staging, 0, o, end)
        end -= o
      }
      return true
    }
  }
}

/**
 * A client Socket to host:port (NodeSocket.makeNet's connection, with frame reads and frame release).
 * With `tls`, a TLS connection (tls-options.ts); it reads with ordinary 'data' events (TLS decrypts into
 * buffers of its own, so frames are gathered by the framing's decoder instead of `frameReader`).
 */
export const connectTcp = (options: {
  readonly host: string
  readonly port: number
  readonly maxFrameBytes: number
  readonly tls?: TlsFiles
}): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(
    Effect.scopeWith((scope) => {
      let conn: net.Socket | undefined
      return Scope.addFinalizer(
        scope,
        Effect.sync(() => {
          if (conn && conn.closed === false) conn.destroySoon()
        })
      ).pipe(
        Effect.zipRight(
          Effect.async<net.Socket, Socket.SocketError>((resume) => {
            // With onread Node buffers nothing for a 'data' listener that is not there yet: frames that
            // arrive before NodeSocket listens (none in this protocol, where the client speaks first)
            // wait for it instead of being dropped.
            const early: Uint8Array[] = []
            if (options.tls !== undefined) {
              const secure = tls.connect({ host: options.host, port: options.port, ...tlsClientOptions(options.tls, options.host) })
              secure.setNoDelay(true)
              conn = releaseFramesOnceWritten(secure)
              secure.once("secureConnect", () => resume(Effect.succeed(secure)))
              secure.on("error", (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause }))))
              return
            }
            const reader = frameReader((frame) => (conn!.listenerCount("data") > 0 ? conn!.emit("data", frame) : early.push(frame)), options.maxFrameBytes)
            conn = releaseFramesOnceWritten(net.createConnection({ host: options.host, port: options.port, noDelay: true, onread: reader }))
            conn.on("newListener", (event) => {
              if (event === "data" && early.length > 0) process.nextTick(() => early.splice(0).forEach((frame) => conn!.emit("data", frame)))
            })
            conn.once("connect", () => resume(Effect.succeed(conn!)))
            conn.on("error", (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause }))))
          })
        )
      )
    })
  )

/**
 * A listen that failed (the port is taken, the address is not this host's). @effect/platform's
 * SocketServerError says only its reason ("Open"); this one names the address and the system's error.
 */
export class ListenFailed extends SocketServer.SocketServerError {
  constructor(
    readonly address: string,
    cause: unknown
  ) {
    super({ reason: "Open", cause })
  }
  override get message(): string {
    return `cannot listen on ${this.address}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/**
 * A listening SocketServer (NodeSocketServer.make's, with frame release and noDelay on every accepted
 * connection). Scoped: closing the scope stops listening. With `admission`, connections that have not
 * authenticated are bounded in number, frame size and time (admission.ts); with `tls`, connections are
 * TLS (tls-options.ts), and admission starts once the handshake is done.
 */
export const makeTcpSocketServer = (options: {
  readonly host: string
  readonly port: number
  readonly admission?: AdmissionOptions
  readonly tls?: TlsFiles
}) =>
  Effect.gen(function* () {
    const failed = yield* Deferred.make<never, Error>()
    const pending: net.Socket[] = []
    let onConnection = (conn: net.Socket): void => void pending.push(conn)
    const admission = options.admission ? makeAdmission(options.admission) : undefined
    const accepted = (conn: net.Socket) => {
      admission?.admit(conn)
      onConnection(releaseFramesOnceWritten(conn))
    }
    const server: net.Server =
      options.tls !== undefined
        ? tls.createServer({ ...tlsServerOptions(options.tls), noDelay: true }, accepted)
        : net.createServer({ noDelay: true }, accepted)
    yield* Effect.addFinalizer(() => Effect.async<void>((resume) => void server.close(() => resume(Effect.void))))
    server.on("error", (cause) => Deferred.unsafeDone(failed, Exit.fail(cause)))
    yield* Effect.async<void>((resume) => void server.listen(options.port, options.host, () => resume(Effect.void))).pipe(
      Effect.raceFirst(Effect.mapError(Deferred.await(failed), (cause) => new ListenFailed(`${options.host ?? ""}:${options.port}`, cause)))
    )

    const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const fibers = yield* FiberSet.make().pipe(Scope.extend(scope))
        const fork = yield* FiberSet.runtime(fibers)<R>()
        const accept = (conn: net.Socket) => {
          let error: Error | undefined
          conn.on("error", (err) => {
            error = err
          })
          fork(
            NodeSocket.fromDuplex(
              Effect.acquireRelease(
                Effect.suspend((): Effect.Effect<net.Socket, Socket.SocketError> =>
                  error
                    ? Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause: error }))
                    : conn.closed
                      ? Effect.fail(new Socket.SocketCloseError({ reason: "Close", code: 1000 }))
                      : Effect.succeed(conn)
                ),
                (c) =>
                  Effect.sync(() => {
                    if (c.closed === false) c.destroySoon()
                  })
              )
            ).pipe(
              Effect.flatMap(handler),
              Effect.catchAllCause((cause) => Effect.logDebug("TCP connection ended", cause)),
              Effect.provideService(NodeSocket.NetSocket, conn)
            )
          )
        }
        return yield* Effect.async<never>(() => {
          const previous = onConnection
          onConnection = accept
          pending.splice(0).forEach(accept)
          return Effect.suspend(() => {
            onConnection = previous
            return Scope.close(scope, Exit.void)
          })
        }).pipe(
          Effect.raceFirst(Effect.mapError(Deferred.await(failed), (cause) => new SocketServer.SocketServerError({ reason: "Unknown", cause })))
        )
      })

    const address = server.address()
    return SocketServer.SocketServer.of({
      address:
        typeof address === "string" || address === null
          ? { _tag: "UnixAddress", path: String(address) }
          : { _tag: "TcpAddress", hostname: address.address, port: address.port },
      run
    })
  })
