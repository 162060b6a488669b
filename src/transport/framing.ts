import { RpcSerialization } from "@effect/rpc"
import { Layer } from "effect"
import { addExtension, Packr, Unpackr } from "msgpackr"

/**
 * msgpack with a 4-byte big-endian length prefix per message. @effect/rpc's built-in msgpack framing
 * re-concatenates and re-parses the whole partial buffer on every socket chunk, which is quadratic for
 * multi-MB tensors; here each frame is assembled once into one buffer of its exact size and unpacked
 * once. Frames over `maxFrameBytes` are refused before any allocation.
 *
 * Frame payload (after the length): u32 BE header length, the msgpack header, zero padding to a multiple
 * of 8, then the tensor section. Byte arrays of TENSOR_MIN_BYTES or more travel in the tensor section,
 * each at an 8-byte aligned offset, and the header holds a reference (msgpack ext TENSOR_EXT: offset and
 * length in the section). So encoding copies each tensor once, straight into the frame (msgpackr's bin
 * path costs several times a memcpy on multi-MB arrays), and a frame assembled from socket chunks into
 * its own buffer yields tensors that Float32ArrayFromBytes views without copying.
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
        // Uninitialised (take() overwrites every byte), and its own buffer: tensors in it are 8-aligned.
        frame = Buffer.allocUnsafeSlow(pendingLength)
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

/** Byte arrays at least this long go to the tensor section; shorter ones stay inline msgpack `bin`. */
export const TENSOR_MIN_BYTES = 1024
/** msgpack extension type of a tensor reference (application-defined types are 0…127). */
export const TENSOR_EXT = 0x54

/** Where a tensor sits in the tensor section (written as ext TENSOR_EXT: u32 offset, u32 length). */
class TensorRef {
  constructor(
    readonly offset: number,
    readonly length: number
  ) {}
}

const align8 = (n: number): number => (n + 7) & ~7

/** The frame whose header is being unpacked: tensor references resolve into its tensor section. */
let unpacking: { readonly frame: Uint8Array; readonly start: number } | null = null

addExtension({
  Class: TensorRef,
  type: TENSOR_EXT,
  pack: (ref: TensorRef) => {
    const b = Buffer.allocUnsafe(8)
    b.writeUInt32BE(ref.offset, 0)
    b.writeUInt32BE(ref.length, 4)
    return b
  },
  unpack: (b: Uint8Array) => {
    if (unpacking === null || b.length !== 8) throw new Error("tensor reference outside a deepspark frame")
    const offset = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
    const length = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0
    const { frame, start } = unpacking
    if (start + offset + length > frame.length) {
      throw new Error(`tensor reference [${offset}, +${length}) runs past the frame (${frame.length - start} bytes of tensors)`)
    }
    return frame.subarray(start + offset, start + offset + length)
  }
})

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * The message with every large byte array replaced by a TensorRef (pushed to `tensors`, section size
 * returned through `at`); objects on the way are copied only where something below them changed.
 */
const extractTensors = (v: unknown, tensors: Array<Uint8Array>, at: { size: number }): unknown => {
  if (typeof v !== "object" || v === null) return v
  if (v instanceof Uint8Array) {
    if (v.byteLength < TENSOR_MIN_BYTES) return v
    const ref = new TensorRef(at.size, v.byteLength)
    tensors.push(v)
    at.size = align8(at.size + v.byteLength)
    return ref
  }
  if (Array.isArray(v)) {
    let copy: Array<unknown> | null = null
    for (let i = 0; i < v.length; i++) {
      const x = v[i]
      const y = extractTensors(x, tensors, at)
      if (y !== x) (copy ??= v.slice())[i] = y
    }
    return copy ?? v
  }
  if (!isPlainObject(v)) return v
  let copy: Record<string, unknown> | null = null
  for (const key in v) {
    const x = (v as Record<string, unknown>)[key]
    const y = extractTensors(x, tensors, at)
    if (y !== x) (copy ??= { ...(v as Record<string, unknown>) })[key] = y
  }
  return copy ?? v
}

/**
 * Packs `message` as one frame (length, header length, msgpack header, padding, tensor section) in a
 * buffer of its own: each tensor is copied once, and a MessagePort can transfer the whole buffer.
 */
export const packFrame = (packr: Packr, message: unknown): Uint8Array => {
  const tensors: Array<Uint8Array> = []
  const at = { size: 0 }
  const header = packr.pack(extractTensors(message, tensors, at))
  const start = align8(4 + header.length)
  const n = start + at.size
  // Not zero-filled (the tensors overwrite most of it): only the padding bytes are cleared below.
  const out = Buffer.allocUnsafeSlow(4 + n)
  out[0] = n >>> 24
  out[1] = (n >>> 16) & 0xff
  out[2] = (n >>> 8) & 0xff
  out[3] = n & 0xff
  const h = header.length
  out[4] = h >>> 24
  out[5] = (h >>> 16) & 0xff
  out[6] = (h >>> 8) & 0xff
  out[7] = h & 0xff
  out.set(header, 8)
  out.fill(0, 8 + h, 4 + start)
  let offset = 4 + start
  for (const t of tensors) {
    out.set(t, offset)
    out.fill(0, offset + t.byteLength, offset + align8(t.byteLength))
    offset += align8(t.byteLength)
  }
  return out
}

/** Unpacks a frame payload (without its length prefix): the header, with tensors viewed in place. */
export const unpackFrame = (unpackr: Unpackr, frame: Uint8Array): unknown => {
  if (frame.length < 4) throw new Error(`frame of ${frame.length} bytes has no header length`)
  const h = ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0
  if (4 + h > frame.length) throw new Error(`frame header of ${h} bytes runs past the frame (${frame.length} bytes)`)
  unpacking = { frame, start: align8(4 + h) }
  try {
    return unpackr.unpack(frame.subarray(4, 4 + h))
  } finally {
    unpacking = null
  }
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
      const decode = makeFrameDecoder(maxFrameBytes, (frame) => unpackFrame(unpackr, frame))
      return {
        decode: (data) => decode(typeof data === "string" ? encoder.encode(data) : data),
        encode: (message) => packFrame(packr, message)
      }
    }
  })
}

export const layerLengthPrefixedMsgPack = (options: FramingOptions = {}) =>
  Layer.succeed(RpcSerialization.RpcSerialization, lengthPrefixedMsgPack(options))
