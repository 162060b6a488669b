/**
 * Descriptor-driven protobuf (proto2) encoder for plain messages.
 *
 * Writes fields in ascending field-number order with the declared packing (as Caffe's C++ protobuf
 * does), so re-encoding a decoded Caffe file reproduces it byte for byte (unless it had unknown fields,
 * which decoding drops). Two passes: `measure` validates the message and records every nested
 * message's size, then `write` fills one preallocated buffer; typed-array blob data is copied with one
 * memcpy. An invalid plain message (unknown key, wrong value type, integer out of range, unknown enum
 * name) raises ProtoEncodeError naming the field path.
 */
import type { CaffeMessageName, CaffeMessages } from "../schema/types.js"
import { makeProtoEncodeError } from "./errors.js"
import { HOST_LITTLE_ENDIAN, Kind, messagePlan, type FieldPlan, type MessagePlan } from "./plan.js"

const TWO_32 = 4294967296
const MAX_DEPTH = 100
const utf8 = new TextEncoder()

type Source = Record<string, unknown>

const utf8Length = (s: string): number => {
  let n = 0
  const len = s.length
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if ((c & 0xfc00) === 0xd800 && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4
      i++
    } else n += 3 // includes lone surrogates, which TextEncoder writes as U+FFFD
  }
  return n
}

/** Bytes of the varint of a non-negative integer < 2^64 given as (lo, hi) uint32 halves. */
const varint64Size = (lo: number, hi: number): number => {
  let n = 1
  while (hi !== 0 || lo > 0x7f) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0
    hi = hi >>> 7
    n++
  }
  return n
}

/** Splits an integer (|v| < 2^63) into its 64-bit two's-complement halves. */
const split64 = (v: number): [number, number] => {
  const hi = Math.floor(v / TWO_32)
  const lo = v - hi * TWO_32
  return [lo >>> 0, hi >>> 0]
}

const varintSize = (v: number): number => {
  if (v >= 0 && v < 0x80) return 1
  if (v >= 0 && v < 0x4000) return 2
  const [lo, hi] = split64(v)
  return varint64Size(lo, hi)
}

const isTypedFloat = (v: unknown): v is Float32Array | Float64Array =>
  v instanceof Float32Array || v instanceof Float64Array

class Encoder {
  /** Sizes of nested messages (by object) and payload sizes of packed varint lists (by array). */
  private readonly sizes = new Map<object, number>()
  /** Present fields of each measured message, in ascending field number (the write order). */
  private readonly present = new Map<object, ReadonlyArray<FieldPlan>>()
  private readonly path: Array<string> = []
  private out: Uint8Array = new Uint8Array(0)
  private view: DataView = new DataView(this.out.buffer)
  private pos = 0
  private depth = 0

  constructor(private readonly rootName: string) {}

  private fail(reason: string): never {
    throw makeProtoEncodeError({ messageName: this.rootName, fieldPath: this.path.join("."), reason })
  }

  // ------------------------------------------------------------------------------------------------
  // Pass 1: validate and measure.

  measure(plan: MessagePlan, msg: unknown): number {
    if (typeof msg !== "object" || msg === null || Array.isArray(msg) || ArrayBuffer.isView(msg)) {
      this.fail(`expected a ${plan.name} message object, got ${describe(msg)}`)
    }
    if (++this.depth > MAX_DEPTH) this.fail(`messages nested deeper than ${MAX_DEPTH} (a cycle?)`)
    const src = msg as Source
    // Work on the PRESENT keys only (messages are sparse; LayerParameter declares ~60 fields).
    const present: Array<FieldPlan> = []
    let sorted = true
    for (const key of Object.keys(src)) {
      if (src[key] === undefined) continue
      const field = plan.byName.get(key)
      if (field === undefined) this.fail(`${plan.name} has no field "${key}"`)
      if (present.length > 0 && present[present.length - 1]!.number > field.number) sorted = false
      present.push(field)
    }
    if (!sorted) present.sort((a, b) => a.number - b.number)
    let size = 0
    for (const field of present) {
      this.path.push(field.name)
      size += this.measureField(field, src[field.name])
      this.path.pop()
    }
    this.sizes.set(src, size)
    this.present.set(src, present)
    this.depth--
    return size
  }

  private measureField(field: FieldPlan, value: unknown): number {
    const tagSize = field.tagBytes.length
    if (!field.repeated) return tagSize + this.measureValue(field, value)
    if (field.typedArray !== undefined) {
      let count: number
      if (isTypedFloat(value)) count = value.length
      else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (typeof value[i] !== "number") this.fail(`element ${i}: expected a number, got ${describe(value[i])}`)
        }
        count = value.length
      } else return this.fail(`expected a Float32Array/Float64Array or number[], got ${describe(value)}`)
      if (count === 0) return 0
      const payload = count * (field.typedArray === "f32" ? 4 : 8)
      return tagSize + varintSize(payload) + payload
    }
    if (!Array.isArray(value)) return this.fail(`repeated field: expected an array, got ${describe(value)}`)
    if (value.length === 0) return 0
    if (field.packed) {
      let payload = 0
      for (let i = 0; i < value.length; i++) payload += this.measureScalarOnly(field, value[i], i)
      this.sizes.set(value, payload)
      return tagSize + varintSize(payload) + payload
    }
    let size = 0
    const base = this.path[this.path.length - 1]!
    for (let i = 0; i < value.length; i++) {
      this.path[this.path.length - 1] = `${base}[${i}]`
      size += tagSize + this.measureValue(field, value[i])
    }
    this.path[this.path.length - 1] = base
    return size
  }

  private measureScalarOnly(field: FieldPlan, value: unknown, index: number): number {
    const base = this.path[this.path.length - 1]!
    this.path[this.path.length - 1] = `${base}[${index}]`
    const n = this.measureValue(field, value)
    this.path[this.path.length - 1] = base
    return n
  }

  /** Size of one value without its tag (length prefix included for LEN kinds). */
  private measureValue(field: FieldPlan, value: unknown): number {
    switch (field.kind) {
      case Kind.Int32:
        return varintSize(this.checkInt(value, -2147483648, 2147483647, "int32"))
      case Kind.Uint32:
        return varintSize(this.checkInt(value, 0, 4294967295, "uint32"))
      case Kind.Int64:
        return varintSize(this.checkInt(value, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "int64"))
      case Kind.Uint64:
        return varintSize(this.checkInt(value, 0, Number.MAX_SAFE_INTEGER, "uint64"))
      case Kind.Bool:
        if (typeof value !== "boolean") this.fail(`expected a boolean, got ${describe(value)}`)
        return 1
      case Kind.Enum: {
        if (typeof value !== "string") this.fail(`expected an enum value name (string), got ${describe(value)}`)
        const n = field.enumByName!.get(value)
        if (n === undefined) {
          this.fail(`"${value}" is not a value of ${field.field.type.kind === "enum" ? field.field.type.enum : "?"}`)
        }
        return varintSize(n)
      }
      case Kind.Float:
        if (typeof value !== "number") this.fail(`expected a number, got ${describe(value)}`)
        return 4
      case Kind.Double:
        if (typeof value !== "number") this.fail(`expected a number, got ${describe(value)}`)
        return 8
      case Kind.String: {
        if (typeof value !== "string") this.fail(`expected a string, got ${describe(value)}`)
        const n = utf8Length(value)
        return varintSize(n) + n
      }
      case Kind.Bytes:
        if (!(value instanceof Uint8Array)) this.fail(`expected a Uint8Array, got ${describe(value)}`)
        return varintSize(value.length) + value.length
      case Kind.Message: {
        const n = this.measure(messagePlan(field.messageName!), value)
        return varintSize(n) + n
      }
    }
  }

  private checkInt(value: unknown, min: number, max: number, type: string): number {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(`expected an integer (${type}), got ${describe(value)}`)
    }
    if (value < min || value > max) this.fail(`${value} is out of range for ${type}`)
    return value
  }

  // ------------------------------------------------------------------------------------------------
  // Pass 2: write (the message was validated by `measure`).

  run(plan: MessagePlan, msg: unknown): Uint8Array {
    const size = this.measure(plan, msg)
    this.out = new Uint8Array(size)
    this.view = new DataView(this.out.buffer)
    this.pos = 0
    this.writeMessage(msg as Source)
    if (this.pos !== size) this.fail(`internal: wrote ${this.pos} bytes, measured ${size}`)
    return this.out
  }

  private writeMessage(src: Source): void {
    for (const field of this.present.get(src)!) {
      const value = src[field.name]
      if (!field.repeated) {
        this.writeTag(field)
        this.writeValue(field, value)
      } else if (field.typedArray !== undefined) {
        this.writeTypedArray(field, value as Float32Array | Float64Array | ReadonlyArray<number>)
      } else {
        const list = value as ReadonlyArray<unknown>
        if (list.length === 0) continue
        if (field.packed) {
          this.writeTag(field)
          this.writeVarint(this.sizes.get(list)!)
          for (const v of list) this.writeValue(field, v)
        } else {
          for (const v of list) {
            this.writeTag(field)
            this.writeValue(field, v)
          }
        }
      }
    }
  }

  private writeTag(field: FieldPlan): void {
    this.out.set(field.tagBytes, this.pos)
    this.pos += field.tagBytes.length
  }

  private writeTypedArray(field: FieldPlan, value: Float32Array | Float64Array | ReadonlyArray<number>): void {
    const count = value.length
    if (count === 0) return
    const f32 = field.typedArray === "f32"
    this.writeTag(field)
    this.writeVarint(count * (f32 ? 4 : 8))
    if (HOST_LITTLE_ENDIAN && (f32 ? value instanceof Float32Array : value instanceof Float64Array)) {
      const typed = value as Float32Array | Float64Array
      this.out.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), this.pos)
      this.pos += typed.byteLength
      return
    }
    const view = this.view
    let pos = this.pos
    if (f32) {
      for (let i = 0; i < count; i++, pos += 4) view.setFloat32(pos, value[i]!, true)
    } else {
      for (let i = 0; i < count; i++, pos += 8) view.setFloat64(pos, value[i]!, true)
    }
    this.pos = pos
  }

  private writeValue(field: FieldPlan, value: unknown): void {
    switch (field.kind) {
      case Kind.Int32:
      case Kind.Uint32:
      case Kind.Int64:
      case Kind.Uint64:
        this.writeVarint(value as number)
        return
      case Kind.Bool:
        this.out[this.pos++] = value ? 1 : 0
        return
      case Kind.Enum:
        this.writeVarint(field.enumByName!.get(value as string)!)
        return
      case Kind.Float:
        this.view.setFloat32(this.pos, value as number, true)
        this.pos += 4
        return
      case Kind.Double:
        this.view.setFloat64(this.pos, value as number, true)
        this.pos += 8
        return
      case Kind.String: {
        const s = value as string
        this.writeVarint(utf8Length(s))
        const { written } = utf8.encodeInto(s, this.out.subarray(this.pos))
        this.pos += written
        return
      }
      case Kind.Bytes: {
        const b = value as Uint8Array
        this.writeVarint(b.length)
        this.out.set(b, this.pos)
        this.pos += b.length
        return
      }
      case Kind.Message: {
        const sub = value as Source
        this.writeVarint(this.sizes.get(sub)!)
        this.writeMessage(sub)
        return
      }
    }
  }

  /** Varint of an integer; negatives as 10-byte 64-bit two's complement (proto2 int32/int64). */
  private writeVarint(v: number): void {
    const out = this.out
    if (v >= 0 && v < 0x80000000) {
      while (v > 0x7f) {
        out[this.pos++] = (v & 0x7f) | 0x80
        v >>>= 7
      }
      out[this.pos++] = v
      return
    }
    let [lo, hi] = split64(v)
    while (hi !== 0 || lo > 0x7f) {
      out[this.pos++] = (lo & 0x7f) | 0x80
      lo = ((lo >>> 7) | (hi << 25)) >>> 0
      hi = hi >>> 7
    }
    out[this.pos++] = lo
  }
}

const describe = (v: unknown): string => {
  if (v === null) return "null"
  if (Array.isArray(v)) return "an array"
  if (ArrayBuffer.isView(v)) return v.constructor.name
  if (typeof v === "object") return "an object"
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
  return `${typeof v} ${String(v)}`
}

/** Encodes a plain message. Throws ProtoEncodeError when it does not fit the schema. */
export function encode<N extends CaffeMessageName>(messageName: N, msg: CaffeMessages[N]): Uint8Array
export function encode(messageName: string, msg: Record<string, unknown>): Uint8Array
export function encode(messageName: string, msg: unknown): Uint8Array {
  return new Encoder(messageName).run(messagePlan(messageName), msg)
}
