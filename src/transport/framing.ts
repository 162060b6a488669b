import { RpcSerialization } from "@effect/rpc"
import { Layer } from "effect"
import { Packr, RESERVE_START_SPACE, Unpackr } from "msgpackr"

/**
 * msgpack with a 4-byte big-endian length prefix per message. @effect/rpc's built-in msgpack framing
 * re-concatenates and re-parses the whole partial buffer on every socket chunk, which is quadratic for
 * multi-MB tensors; here each frame is assembled once into one buffer of its exact size and unpacked
 * once. Frames over `maxFrameBytes` are refused before any allocation.
 */
/** Raised for a frame over the limit; as an RpcSerializationError the RPC server closes that connection (1009). */
export const frameTooLarge = (frameBytes: number, maxFrameBytes: number) =>
  new RpcSerialization.RpcSerializationError({ reason: "BufferSizeExceeded", maxBufferSize: maxFrameBytes, bufferSize: frameBytes })

export interface FramingOptions {
  /** Largest accepted message (default 512 MiB). */
  readonly maxFrameBytes?: number
}

export const makeFrameDecoder = (maxFrameBytes: number, unpack: (frame: Uint8Array) => unknown) => {
  const chunks: Uint8Array[] = []
  let buffered = 0
  let header = new Uint8Array(4)

  /** Copies n bytes from the head of the chunk list into `out` at `offset`, consuming them. */
  const take = (out: Uint8Array, offset: number, n: number): void => {
    let filled = 0
    while (filled < n) {
      const head = chunks[0]!
      const m = Math.min(head.length, n - filled)
      out.set(head.subarray(0, m), offset + filled)
      filled += m
      if (m === head.length) chunks.shift()
      else chunks[0] = head.subarray(m)
    }
    buffered -= n
  }
  let pendingLength = -1

  return (bytes: Uint8Array): unknown[] => {
    if (bytes.length > 0) {
      chunks.push(bytes)
      buffered += bytes.length
    }
    const out: unknown[] = []
    for (;;) {
      if (pendingLength < 0) {
        if (buffered < 4) break
        take(header, 0, 4)
        pendingLength = ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0
        if (pendingLength > maxFrameBytes) {
          chunks.length = 0
          buffered = 0
          const len = pendingLength
          pendingLength = -1
          header = new Uint8Array(4)
          throw frameTooLarge(len, maxFrameBytes)
        }
      }
      if (buffered < pendingLength) break
      let frame: Uint8Array
      const head = chunks[0]
      if (head && head.length >= pendingLength) {
        // The whole frame sits in one chunk: use it in place.
        frame = head.subarray(0, pendingLength)
        if (head.length === pendingLength) chunks.shift()
        else chunks[0] = head.subarray(pendingLength)
        buffered -= pendingLength
      } else {
        frame = new Uint8Array(pendingLength)
        take(frame, 0, pendingLength)
      }
      pendingLength = -1
      out.push(unpack(frame))
    }
    return out
  }
}

export const encodeFrame = (packed: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + packed.length)
  const n = packed.length
  out[0] = n >>> 24
  out[1] = (n >>> 16) & 0xff
  out[2] = (n >>> 8) & 0xff
  out[3] = n & 0xff
  out.set(packed, 4)
  return out
}

/**
 * Packs `message` with its 4-byte length header in one buffer: msgpackr leaves the header's room at the
 * front, so a multi-MB tensor is copied once (into msgpackr's buffer), not twice as with encodeFrame.
 * The result is a view of msgpackr's buffer that later packs never overwrite (they append, or start a
 * new buffer), and never the whole buffer (msgpackr keeps slack at its end), so a receiver that only
 * transfers buffers it fully owns (message-port-socket.ts) copies it instead.
 */
export const packFrame = (packr: Packr, message: unknown): Uint8Array => {
  const framed = packr.pack(message, RESERVE_START_SPACE | 4)
  const n = framed.length - 4
  framed[0] = n >>> 24
  framed[1] = (n >>> 16) & 0xff
  framed[2] = (n >>> 8) & 0xff
  framed[3] = n & 0xff
  return framed
}

export const lengthPrefixedMsgPack = (options: FramingOptions = {}) => {
  const maxFrameBytes = options.maxFrameBytes ?? 512 * 1024 * 1024
  return RpcSerialization.RpcSerialization.of({
    contentType: "application/x-deepspark-msgpack-framed",
    includesFraming: true,
    unsafeMake: () => {
      const packr = new Packr({ useRecords: false, moreTypes: false })
      const unpackr = new Unpackr({ useRecords: false, moreTypes: false })
      const encoder = new TextEncoder()
      const decode = makeFrameDecoder(maxFrameBytes, (frame) => unpackr.unpack(frame))
      return {
        decode: (data) => decode(typeof data === "string" ? encoder.encode(data) : data),
        encode: (message) => packFrame(packr, message)
      }
    }
  })
}

export const layerLengthPrefixedMsgPack = (options: FramingOptions = {}) =>
  Layer.succeed(RpcSerialization.RpcSerialization, lengthPrefixedMsgPack(options))
