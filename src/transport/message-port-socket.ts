import * as NodeSocket from "@effect/platform-node-shared/NodeSocket"
import * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import { Effect, Exit, FiberSet, Queue, Scope } from "effect"
import { Duplex } from "node:stream"
import type { MessagePort } from "node:worker_threads"
import { adoptTransferredBuffer, FrameReusedError, isRetiredFrame, releaseWrittenFrame, takeTransferBuffer } from "./buffer-pool.js"

/**
 * A byte stream over a worker_threads MessagePort, so local mode (trainers in worker threads) speaks
 * the very same framed RPC as TCP mode. Each written chunk is posted as a copy of exactly its bytes, in
 * a buffer of its own that is transferred (moved, not cloned again) to the other thread. The chunk
 * itself is never transferred: its writer may still use it (the RPC client writes its encoded Ping
 * again every 10 s, and a transferred buffer is detached, so the next post would silently send
 * nothing), and a view would clone its whole underlying buffer. A pooled send frame (buffer-pool.ts)
 * is released as soon as it is copied. Large copies are pooled too (takeTransferBuffer): the receiving
 * thread adopts each as a receive buffer, which returns to its pool when the frame's tensor is
 * consumed, and from there carries that thread's next message back — a worker's exchange and the
 * center's reply reuse the same buffers instead of allocating 1.7 MB (LeNet) each way per exchange.
 */
export const messagePortDuplex = (port: MessagePort): Duplex => {
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer | Uint8Array, _encoding, callback) {
      try {
        if (isRetiredFrame(chunk)) throw new FrameReusedError()
        const copy = takeTransferBuffer(chunk.byteLength)
        copy.set(chunk)
        releaseWrittenFrame(chunk)
        port.postMessage(copy, [copy.buffer as ArrayBuffer])
        callback()
      } catch (e) {
        callback(e as Error)
      }
    },
    final(callback) {
      port.postMessage(null)
      callback()
    },
    destroy(err, callback) {
      port.close()
      callback(err)
    }
  })
  port.on("message", (m: Uint8Array | null) => {
    if (m === null) duplex.push(null)
    else {
      const chunk = Buffer.from(m.buffer, m.byteOffset, m.byteLength)
      adoptTransferredBuffer(chunk)
      duplex.push(chunk)
    }
  })
  port.on("close", () => duplex.push(null))
  return duplex
}

/** A Socket (for RpcClient.layerProtocolSocket) over a MessagePort. */
export const socketFromMessagePort = (port: MessagePort): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(Effect.acquireRelease(Effect.sync(() => messagePortDuplex(port)), (d) => Effect.sync(() => d.destroy())))

/**
 * A SocketServer whose connections are MessagePorts handed to `accept` (one per worker thread), for
 * RpcServer.layerProtocolSocketServer in the center's thread.
 */
export const makeMessagePortSocketServer = Effect.gen(function* () {
  const incoming = yield* Queue.unbounded<MessagePort>()
  const accept = (port: MessagePort) => Queue.unsafeOffer(incoming, port)
  const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const fibers = yield* FiberSet.make().pipe(Scope.extend(scope))
      return yield* Queue.take(incoming).pipe(
        Effect.flatMap((port) =>
          FiberSet.run(
            fibers,
            socketFromMessagePort(port).pipe(
              Effect.flatMap(handler),
              Effect.catchAllCause((cause) => Effect.logDebug("message-port connection ended", cause))
            )
          )
        ),
        Effect.forever,
        Effect.ensuring(Scope.close(scope, Exit.void))
      )
    }) as Effect.Effect<never, SocketServer.SocketServerError, R>
  const server = SocketServer.SocketServer.of({ address: { _tag: "UnixAddress", path: "message-port" }, run })
  return { server, accept }
})

