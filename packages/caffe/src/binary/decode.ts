/**
 * Descriptor-driven protobuf (proto2) decoder producing plain messages.
 *
 * - Every repeated numeric field accepts both packed and unpacked encodings (even mixed).
 * - Packed float / double blob data is copied straight into a Float32Array / Float64Array (one memcpy
 *   per chunk on little-endian hosts), never through per-element JS arrays.
 * - Unknown fields (numbers the schema lacks), known fields with an unexpected wire type, and enum
 *   numbers the schema lacks are SKIPPED, as proto2 does; they are not kept, so re-encoding drops them.
 * - A non-repeated message field that occurs twice is merged (proto2 semantics); a scalar: last wins.
 * - Truncated or corrupt input raises ProtoDecodeError (message, field path, byte offset); every read is
 *   bounds-checked against its enclosing length and nesting is limited to 100 levels, so decoding never
 *   throws anything else and never loops.
 * - `bytes` values are copied out of the input (callers may reuse or unmap their buffers).
 */
import type { CaffeMessageName, CaffeMessages } from "../schema/types.js"
import { makeProtoDecodeError } from "./errors.js"
import {
  HOST_LITTLE_ENDIAN,
  Kind,
  messagePlan,
  WIRE_END_GROUP,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_START_GROUP,
  WIRE_VARINT,
  type FieldPlan,
  type MessagePlan
} from "./plan.js"

const MAX_DEPTH = 100
const TWO_32 = 4294967296
const utf8 = new TextDecoder("utf-8")

type Target = Record<string, unknown>

/** Short ASCII strings (layer names, types, blob names) are decoded without a TextDecoder call. */
const decodeUtf8 = (bytes: Uint8Array): string => {
  const n = bytes.length
  if (n > 64) return utf8.decode(bytes)
  let s = ""
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!
    if (c >= 0x80) return utf8.decode(bytes)
    s += String.fromCharCode(c)
  }
  return s
}

/** Packed float/double chunks and single unpacked elements, concatenated when the message ends. */
interface TypedAccumulator {
  readonly plan: FieldPlan
  readonly chunks: Array<Float32Array | Float64Array>
  singles: Array<number>
}

class Decoder {
  pos = 0
  private lo = 0
  private hi = 0
  private depth = 0
  private readonly path: Array<string> = []
  private readonly view: DataView

  constructor(
    private readonly buf: Uint8Array,
    private readonly rootName: string
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  fail(reason: string, offset: number = this.pos): never {
    throw makeProtoDecodeError({
      messageName: this.rootName,
      fieldPath: this.path.join("."),
      offset,
      reason
    })
  }

  /** Reads a varint into lo/hi (two uint32 halves). */
  private readVarint(end: number): void {
    const buf = this.buf
    let pos = this.pos
    let lo = 0
    let b: number
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail("truncated varint", pos)
      b = buf[pos++]!
      lo |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        this.lo = lo >>> 0
        this.hi = 0
        return
      }
    }
    if (pos >= end) this.fail("truncated varint", pos)
    b = buf[pos++]!
    lo |= (b & 0x0f) << 28
    let hi = (b & 0x7f) >> 4
    if (b < 0x80) {
      this.pos = pos
      this.lo = lo >>> 0
      this.hi = hi
      return
    }
    for (let shift = 3; shift < 38; shift += 7) {
      if (pos >= end) this.fail("truncated varint", pos)
      b = buf[pos++]!
      hi |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        this.lo = lo >>> 0
        this.hi = hi >>> 0
        return
      }
    }
    this.fail("varint longer than 10 bytes", pos)
  }

  private readLength(end: number): number {
    const start = this.pos
    this.readVarint(end)
    if (this.hi !== 0 || this.lo > end - this.pos) {
      this.fail(`length ${this.hi !== 0 ? ">4G" : this.lo} exceeds the ${end - this.pos} bytes left`, start)
    }
    return this.lo
  }

  private need(n: number, end: number): void {
    if (end - this.pos < n) this.fail(`truncated: need ${n} bytes, ${end - this.pos} left`)
  }

  /** The number held in lo/hi, interpreted as the field's scalar kind; undefined = unknown enum value. */
  private varintValue(plan: FieldPlan): number | boolean | string | undefined {
    switch (plan.kind) {
      case Kind.Int32:
        return this.lo | 0
      case Kind.Uint32:
        return this.lo
      case Kind.Int64:
        return (this.hi | 0) * TWO_32 + this.lo
      case Kind.Uint64:
        return this.hi * TWO_32 + this.lo
      case Kind.Bool:
        return this.lo !== 0 || this.hi !== 0
      case Kind.Enum:
        return plan.enumByNumber!.get(this.lo | 0)
      default:
        return this.fail("internal: not a varint field")
    }
  }

  decodeMessage(plan: MessagePlan, target: Target, end: number): void {
    let typed: Map<FieldPlan, TypedAccumulator> | undefined
    while (this.pos < end) {
      const tagStart = this.pos
      this.readVarint(end)
      if (this.hi !== 0) this.fail("tag does not fit 32 bits", tagStart)
      const number = this.lo >>> 3
      const wire = this.lo & 7
      if (number === 0) this.fail("field number 0", tagStart)
      const field = plan.byNumber.get(number)
      if (field === undefined) {
        this.skip(wire, number, end, tagStart)
        continue
      }
      this.path.push(field.name)
      if (field.typedArray !== undefined) {
        typed ??= new Map()
        let acc = typed.get(field)
        if (acc === undefined) {
          acc = { plan: field, chunks: [], singles: [] }
          typed.set(field, acc)
        }
        this.readTypedElement(field, wire, acc, end, tagStart, number)
      } else {
        this.readField(field, wire, target, end, tagStart, number)
      }
      this.path.pop()
    }
    if (typed !== undefined) for (const acc of typed.values()) finishTyped(acc, target)
  }

  private readField(field: FieldPlan, wire: number, target: Target, end: number, tagStart: number, number: number): void {
    const kind = field.kind
    if (kind === Kind.Message) {
      if (wire !== WIRE_LEN) return this.skip(wire, number, end, tagStart)
      const list = field.repeated ? ((target[field.name] ??= []) as Array<Target>) : undefined
      if (list !== undefined) this.path[this.path.length - 1] = `${field.name}[${list.length}]`
      const len = this.readLength(end)
      const subEnd = this.pos + len
      if (++this.depth > MAX_DEPTH) this.fail(`messages nested deeper than ${MAX_DEPTH}`)
      let sub: Target
      if (list !== undefined) {
        sub = {}
        list.push(sub)
      } else {
        // proto2: a second occurrence of a singular message merges into the first.
        sub = (target[field.name] ??= {}) as Target
      }
      this.decodeMessage(messagePlan(field.messageName!), sub, subEnd)
      this.depth--
      return
    }
    if (kind === Kind.String || kind === Kind.Bytes) {
      if (wire !== WIRE_LEN) return this.skip(wire, number, end, tagStart)
      const len = this.readLength(end)
      const bytes = this.buf.subarray(this.pos, this.pos + len)
      this.pos += len
      const value = kind === Kind.String ? decodeUtf8(bytes) : bytes.slice()
      if (field.repeated) ((target[field.name] ??= []) as Array<unknown>).push(value)
      else target[field.name] = value
      return
    }
    // Numeric scalar kinds.
    if (wire === field.wire) {
      const value = this.readNumeric(field, end)
      if (value === undefined) return
      if (field.repeated) ((target[field.name] ??= []) as Array<unknown>).push(value)
      else target[field.name] = value
      return
    }
    if (wire === WIRE_LEN && field.repeated) {
      // Packed encoding of a field declared unpacked (or any repeated numeric field): accept it.
      const len = this.readLength(end)
      const chunkEnd = this.pos + len
      const list = (target[field.name] ??= []) as Array<unknown>
      while (this.pos < chunkEnd) {
        const value = this.readNumeric(field, chunkEnd)
        if (value !== undefined) list.push(value)
      }
      return
    }
    this.skip(wire, number, end, tagStart)
  }

  private readNumeric(field: FieldPlan, end: number): number | boolean | string | undefined {
    if (field.kind === Kind.Float) {
      this.need(4, end)
      const v = this.view.getFloat32(this.pos, true)
      this.pos += 4
      return v
    }
    if (field.kind === Kind.Double) {
      this.need(8, end)
      const v = this.view.getFloat64(this.pos, true)
      this.pos += 8
      return v
    }
    this.readVarint(end)
    return this.varintValue(field)
  }

  private readTypedElement(
    field: FieldPlan,
    wire: number,
    acc: TypedAccumulator,
    end: number,
    tagStart: number,
    number: number
  ): void {
    const width = field.typedArray === "f32" ? 4 : 8
    if (wire === WIRE_LEN) {
      const len = this.readLength(end)
      if (len % width !== 0) this.fail(`packed ${field.field.type.kind === "scalar" ? field.field.type.scalar : ""} length ${len} is not a multiple of ${width}`)
      if (acc.singles.length > 0) {
        acc.chunks.push(toTyped(field, acc.singles))
        acc.singles = []
      }
      acc.chunks.push(this.copyTyped(field, this.pos, len / width))
      this.pos += len
      return
    }
    if (wire === (width === 4 ? WIRE_FIXED32 : WIRE_FIXED64)) {
      this.need(width, end)
      acc.singles.push(width === 4 ? this.view.getFloat32(this.pos, true) : this.view.getFloat64(this.pos, true))
      this.pos += width
      return
    }
    this.skip(wire, number, end, tagStart)
  }

  /** Copies `count` little-endian floats/doubles starting at byte `at` into a fresh typed array. */
  private copyTyped(field: FieldPlan, at: number, count: number): Float32Array | Float64Array {
    const out = field.typedArray === "f32" ? new Float32Array(count) : new Float64Array(count)
    if (HOST_LITTLE_ENDIAN) {
      new Uint8Array(out.buffer).set(this.buf.subarray(at, at + out.byteLength))
    } else if (out instanceof Float32Array) {
      for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(at + 4 * i, true)
    } else {
      for (let i = 0; i < count; i++) out[i] = this.view.getFloat64(at + 8 * i, true)
    }
    return out
  }

  /** Skips one field's value (unknown field or unexpected wire type). */
  private skip(wire: number, number: number, end: number, tagStart: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.readVarint(end)
        return
      case WIRE_FIXED64:
        this.need(8, end)
        this.pos += 8
        return
      case WIRE_LEN: {
        const len = this.readLength(end)
        this.pos += len
        return
      }
      case WIRE_FIXED32:
        this.need(4, end)
        this.pos += 4
        return
      case WIRE_START_GROUP: {
        if (++this.depth > MAX_DEPTH) this.fail(`groups nested deeper than ${MAX_DEPTH}`, tagStart)
        for (;;) {
          if (this.pos >= end) this.fail(`unterminated group ${number}`, tagStart)
          const innerStart = this.pos
          this.readVarint(end)
          if (this.hi !== 0) this.fail("tag does not fit 32 bits", innerStart)
          const innerNumber = this.lo >>> 3
          const innerWire = this.lo & 7
          if (innerNumber === 0) this.fail("field number 0", innerStart)
          if (innerWire === WIRE_END_GROUP) {
            if (innerNumber !== number) this.fail(`end of group ${innerNumber} inside group ${number}`, innerStart)
            break
          }
          this.skip(innerWire, innerNumber, end, innerStart)
        }
        this.depth--
        return
      }
      case WIRE_END_GROUP:
        return this.fail(`unexpected end of group ${number}`, tagStart)
      default:
        return this.fail(`invalid wire type ${wire} (field ${number})`, tagStart)
    }
  }
}

const toTyped = (field: FieldPlan, values: ReadonlyArray<number>): Float32Array | Float64Array =>
  field.typedArray === "f32" ? Float32Array.from(values) : Float64Array.from(values)

const finishTyped = (acc: TypedAccumulator, target: Target): void => {
  const field = acc.plan
  const parts: Array<Float32Array | Float64Array> = []
  const existing = target[field.name]
  if (existing instanceof Float32Array || existing instanceof Float64Array) parts.push(existing)
  parts.push(...acc.chunks)
  if (acc.singles.length > 0) parts.push(toTyped(field, acc.singles))
  if (parts.length === 1) {
    target[field.name] = parts[0]
    return
  }
  let total = 0
  for (const p of parts) total += p.length
  const out = field.typedArray === "f32" ? new Float32Array(total) : new Float64Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  target[field.name] = out
}

/** Decodes `bytes` as the named message. Throws ProtoDecodeError on truncated / corrupt input. */
export function decode<N extends CaffeMessageName>(messageName: N, bytes: Uint8Array): CaffeMessages[N]
export function decode(messageName: string, bytes: Uint8Array): Record<string, unknown>
export function decode(messageName: string, bytes: Uint8Array): Record<string, unknown> {
  const plan = messagePlan(messageName)
  const decoder = new Decoder(bytes, messageName)
  const target: Target = {}
  try {
    decoder.decodeMessage(plan, target, bytes.length)
  } catch (e) {
    // Last line of defence for the "only ProtoDecodeError" promise (e.g. a stack overflow).
    if (e instanceof RangeError) decoder.fail(`decoder failure: ${e.message}`)
    throw e
  }
  return target
}
