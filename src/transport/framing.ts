import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { Layer } from "effect"
import { addExtension, Packr, Unpackr } from "msgpackr"
import { isReceiveBuffer, leaseReceived, releaseEncodedTensor, takeFrame, takeReceiveBuffer } from "./buffer-pool.js"

/**
 * Framed msgpack for CenterRpcs, with tensors out of band.
 *
 * @effect/rpc's built-in msgpack framing re-concatenates and re-parses the whole partial buffer on every
 * socket chunk, which is quadratic for multi-MB tensors; and msgpack `bin` costs a tensor two or three
 * copies and a multi-MB scratch buffer per message on the way out (msgpackr grows its buffer 4×), plus
 * a copy on the way in whenever the bin lands at an offset that is not 4-byte aligned. Multi-MB buffers
 * allocated per message are what drives V8 into full garbage collections (external memory pressure), so
 * this framing allocates exactly one buffer per message on each side and copies each tensor once.
 *
 * Frame: u32 BE payload length L (bytes after these 4), u32 BE header length H, the msgpack header, zero
 * padding to an 8-byte boundary of the frame, then the tensor section. Byte arrays of TENSOR_MIN_BYTES
 * or more travel in the tensor section, each at an 8-aligned offset followed by zero padding, and the
 * header holds a reference to it (msgpack ext TENSOR_EXT: u32 offset, u32 length within the section).
 *
 * Ownership (see buffer-pool.ts): every frame from `encode` is a buffer that nothing else writes to
 * until it is released. A small frame may be written more than once (the RPC client's pinger encodes
 * its Ping once and writes it every 10 s), so a socket never detaches (transfers) a frame; a large one
 * comes from the pool and goes back when the socket has written it. A received frame that spans several
 * socket chunks is assembled into a buffer of its own (pooled when large), which goes back to the pool
 * only when the consumer of its one tensor releases that tensor; a frame inside one chunk is used in
 * place (the chunk belongs to the frame stream and is never written again). Decoded tensors are views of
 * the frame, 8-aligned relative to its start, so Float32ArrayFromBytes views them without a copy. A
 * tensor from takeTensor (the center's reply) goes back to the pool once copied into its frame.
 */

/** Raised for a frame over the limit; as an RpcSerializationError the RPC server closes that connection (1009). */
export const frameTooLarge = (frameBytes: number, maxFrameBytes: number) =>
  new RpcSerialization.RpcSerializationError({ reason: "BufferSizeExceeded", maxBufferSize: maxFrameBytes, bufferSize: frameBytes })

export interface FramingOptions {
  /** Largest accepted message (default 512 MiB). */
  readonly maxFrameBytes?: number
}

/** Byte arrays at least this long go to the tensor section; shorter ones stay inline msgpack `bin`. */
export const TENSOR_MIN_BYTES = 1024
/** msgpack extension type of a tensor reference (application-defined types are 0…127). */
export const TENSOR_EXT = 0x54

const align8 = (n: number): number => (n + 7) & ~7

const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
const writeU32 = (b: Uint8Array, at: number, v: number): void => {
  b[at] = v >>> 24
  b[at + 1] = (v >>> 16) & 0xff
  b[at + 2] = (v >>> 8) & 0xff
  b[at + 3] = v & 0xff
}

/** Where a tensor sits in the tensor section (written as ext TENSOR_EXT). */
class TensorRef {
  constructor(
    readonly offset: number,
    readonly length: number
  ) {}
}

/**
 * The frame whose header is being unpacked (unpacking is synchronous): references resolve into it.
 * `"header-only"`: only the header is at hand (unpackHeader), and references resolve to empty arrays.
 */
let unpacking: { readonly frame: Uint8Array; readonly section: number; readonly tensors: Uint8Array[] } | "header-only" | null = null

addExtension({
  Class: TensorRef,
  type: TENSOR_EXT,
  pack: (ref: TensorRef) => {
    const b = new Uint8Array(8)
    writeU32(b, 0, ref.offset)
    writeU32(b, 4, ref.length)
    return b
  },
  unpack: (b: Uint8Array) => {
    if (unpacking === null || b.length !== 8) throw new Error("tensor reference outside a deepspark frame")
    if (unpacking === "header-only") return new Uint8Array(0)
    const offset = readU32(b, 0)
    const length = readU32(b, 4)
    const { frame, section } = unpacking
    if (section + offset + length > frame.length)
      throw new Error(`tensor reference [${offset}, +${length}) runs past the frame (${frame.length - section} bytes of tensors)`)
    const tensor = frame.subarray(section + offset, section + offset + length)
    unpacking.tensors.push(tensor)
    return tensor
  }
})

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * `v` with every large byte array replaced by a TensorRef (the arrays pushed to `tensors`); objects and
 * arrays on the way are copied only where something below them changed, never modified.
 */
const extractTensors = (v: unknown, tensors: Array<Uint8Array>, at: { size: number }): unknown => {
  if (typeof v !== "object" || v === null) return v
  if (v instanceof Uint8Array) {
    if (v.byteLength < TENSOR_MIN_BYTES) return v
    const ref = new TensorRef(at.size, v.byteLength)
    tensors.push(v)
    at.size += align8(v.byteLength)
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

/** Offset of the tensor section from the frame start, for a header of h bytes. */
const sectionOffset = (h: number): number => align8(8 + h)

/**
 * Packs `message` as one frame in a buffer of its own (not zero-filled: every byte is written, padding
 * included). Each tensor is copied once, straight into the frame; one from takeTensor is released.
 */
export const packFrame = (packr: Packr, message: unknown): Uint8Array => {
  const tensors: Array<Uint8Array> = []
  const at = { size: 0 }
  const header = packr.pack(extractTensors(message, tensors, at))
  const section = sectionOffset(header.length)
  const out = takeFrame(section + at.size)
  writeU32(out, 0, out.length - 4)
  writeU32(out, 4, header.length)
  out.set(header, 8)
  out.fill(0, 8 + header.length, section)
  let offset = section
  for (const t of tensors) {
    out.set(t, offset)
    out.fill(0, offset + t.byteLength, offset + align8(t.byteLength))
    offset += align8(t.byteLength)
    releaseEncodedTensor(t)
  }
  return out
}

/**
 * Unpacks a whole frame (length prefix included): the header, with tensors viewed in place. A frame
 * assembled in a buffer of its own (`ownBuffer`) that carries exactly one tensor is leased to that
 * tensor's consumer (releaseTensor gives the buffer back to the pool).
 */
export const unpackFrame = (unpackr: Unpackr, frame: Uint8Array, ownBuffer = false): unknown => {
  if (frame.length < 8) throw new Error(`frame of ${frame.length} bytes has no header length`)
  const h = readU32(frame, 4)
  if (8 + h > frame.length) throw new Error(`frame header of ${h} bytes runs past the frame (${frame.length} bytes)`)
  const state = { frame, section: sectionOffset(h), tensors: [] as Uint8Array[] }
  unpacking = state
  let message: unknown
  try {
    message = unpackr.unpack(frame.subarray(8, 8 + h))
  } finally {
    unpacking = null
  }
  if (ownBuffer && state.tensors.length === 1) leaseReceived(frame, state.tensors[0]!)
  return message
}

/**
 * Unpacks only a frame's msgpack header, given its first `8 + H` bytes (the tensor section may not have
 * arrived): tensors come back as empty arrays. For a look at who sent a frame before taking its body
 * (admission.ts).
 */
export const unpackHeader = (unpackr: Unpackr, start: Uint8Array): unknown => {
  if (start.length < 8) throw new Error(`frame start of ${start.length} bytes has no header length`)
  const h = readU32(start, 4)
  if (8 + h > start.length) throw new Error(`frame header of ${h} bytes runs past the ${start.length} bytes given`)
  unpacking = "header-only"
  try {
    return unpackr.unpack(start.subarray(8, 8 + h))
  } finally {
    unpacking = null
  }
}

/**
 * Splits a byte stream into frames (each including its length prefix) and unpacks them. Chunks are
 * kept as they arrive; a frame is copied out of them once, into a buffer of its own (takeReceiveBuffer),
 * unless it lies within one chunk. Frames over `maxFrameBytes` are refused before any allocation.
 * A socket may also deliver whole frames it read into receive buffers itself (tcp-socket.ts).
 */
export const makeFrameDecoder = (maxFrameBytes: number, unpack: (frame: Uint8Array, ownBuffer: boolean) => unknown) => {
  const chunks: Uint8Array[] = []
  let buffered = 0
  /** Total length of the frame being gathered (prefix included), or -1 before its prefix arrived. */
  let pending = -1

  /** Copies n bytes from the head of the chunk list into `out` at `offset`, consuming them. */
  const take = (out: Uint8Array, offset: number, n: number): void => {
    let filled = 0
    while (filled < n) {
      const head = chunks[0]!
      const m = Math.min(head.length, n - filled)
      out.set(m === head.length ? head : head.subarray(0, m), offset + filled)
      filled += m
      if (m === head.length) chunks.shift()
      else chunks[0] = head.subarray(m)
    }
    buffered -= n
  }
  /** The first 4 buffered bytes as a big-endian u32, without consuming them. */
  const peekLength = (): number => {
    let v = 0
    let got = 0
    for (let c = 0; got < 4; c++) {
      const chunk = chunks[c]!
      for (let i = 0; i < chunk.length && got < 4; i++, got++) v = v * 256 + chunk[i]!
    }
    return v
  }

  return (bytes: Uint8Array): unknown[] => {
    if (bytes.length > 0) {
      chunks.push(bytes)
      buffered += bytes.length
    }
    const out: unknown[] = []
    for (;;) {
      if (pending < 0) {
        if (buffered < 4) break
        const length = peekLength()
        if (length > maxFrameBytes) {
          chunks.length = 0
          buffered = 0
          throw frameTooLarge(length, maxFrameBytes)
        }
        pending = 4 + length
      }
      if (buffered < pending) break
      let frame: Uint8Array
      let ownBuffer = false
      const head = chunks[0]!
      if (head.length >= pending) {
        // The whole frame lies in one chunk: use it in place. A chunk that is exactly a frame a socket
        // read into a receive buffer of its own (tcp-socket.ts) is that frame's buffer.
        ownBuffer = head.length === pending && isReceiveBuffer(head)
        frame = head.subarray(0, pending)
        if (head.length === pending) chunks.shift()
        else chunks[0] = head.subarray(pending)
        buffered -= pending
      } else {
        // Its own buffer at offset 0, not zero-filled (take() writes every byte): tensors are 8-aligned.
        frame = takeReceiveBuffer(pending)
        take(frame, 0, pending)
        ownBuffer = true
      }
      pending = -1
      out.push(unpack(frame, ownBuffer))
    }
    return out
  }
}

/** The largest accepted message under these options. */
export const maxFrameBytes = (options: FramingOptions): number => options.maxFrameBytes ?? 512 * 1024 * 1024

export const lengthPrefixedMsgPack = (options: FramingOptions = {}) => {
  const limit = maxFrameBytes(options)
  return RpcSerialization.RpcSerialization.of({
    contentType: "application/x-deepspark-msgpack-framed",
    includesFraming: true,
    unsafeMake: () => {
      const packr = new Packr({ useRecords: false, moreTypes: false })
      const unpackr = new Unpackr({ useRecords: false, moreTypes: false })
      const encoder = new TextEncoder()
      const decode = makeFrameDecoder(limit, (frame, ownBuffer) => unpackFrame(unpackr, frame, ownBuffer))
      return {
        decode: (data) => decode(typeof data === "string" ? encoder.encode(data) : data),
        encode: (message) => packFrame(packr, message)
      }
    }
  })
}

export const layerLengthPrefixedMsgPack = (options: FramingOptions = {}) =>
  Layer.succeed(RpcSerialization.RpcSerialization, lengthPrefixedMsgPack(options))
