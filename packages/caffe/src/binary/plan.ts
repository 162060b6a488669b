/**
 * Per-message plans derived once from the schema descriptor: field lookup by number and name, fields in
 * ascending number order (Caffe's write order), and a small numeric "kind" per field so the codec's
 * hot loops switch on integers instead of comparing strings.
 */
import type { FieldDescriptor, MessageDescriptor } from "../schema/descriptor.js"
import { enumType, messageType } from "../schema/caffe.js"

export enum Kind {
  Int32,
  Int64,
  Uint32,
  Uint64,
  Bool,
  Enum,
  Float,
  Double,
  String,
  Bytes,
  Message
}

export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LEN = 2
export const WIRE_START_GROUP = 3
export const WIRE_END_GROUP = 4
export const WIRE_FIXED32 = 5

export interface FieldPlan {
  readonly field: FieldDescriptor
  readonly name: string
  readonly number: number
  readonly kind: Kind
  readonly repeated: boolean
  readonly packed: boolean
  /** Packed float / double fields live in memory as Float32Array / Float64Array. */
  readonly typedArray: "f32" | "f64" | undefined
  /** The wire type of one element (packed repeated fields use WIRE_LEN on the wire as a whole). */
  readonly wire: number
  /** Precomputed tag varint bytes for writing (element tag for unpacked, LEN tag for packed). */
  readonly tagBytes: Uint8Array
  readonly enumByNumber?: ReadonlyMap<number, string>
  readonly enumByName?: ReadonlyMap<string, number>
  /** Sub-message name for Kind.Message. */
  readonly messageName?: string
}

export interface MessagePlan {
  readonly name: string
  readonly desc: MessageDescriptor
  readonly byNumber: ReadonlyMap<number, FieldPlan>
  readonly byName: ReadonlyMap<string, FieldPlan>
  /** Ascending field number: Caffe's (and our) write order. */
  readonly sorted: ReadonlyArray<FieldPlan>
}

const scalarKind: Record<string, Kind> = {
  int32: Kind.Int32,
  int64: Kind.Int64,
  uint32: Kind.Uint32,
  uint64: Kind.Uint64,
  bool: Kind.Bool,
  float: Kind.Float,
  double: Kind.Double,
  string: Kind.String,
  bytes: Kind.Bytes
}

export const wireOfKind = (kind: Kind): number =>
  kind === Kind.Float
    ? WIRE_FIXED32
    : kind === Kind.Double
      ? WIRE_FIXED64
      : kind === Kind.String || kind === Kind.Bytes || kind === Kind.Message
        ? WIRE_LEN
        : WIRE_VARINT

const tagBytes = (tag: number): Uint8Array => {
  const bytes: Array<number> = []
  let v = tag >>> 0
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80)
    v >>>= 7
  }
  bytes.push(v)
  return Uint8Array.from(bytes)
}

const planField = (field: FieldDescriptor): FieldPlan => {
  const t = field.type
  const kind = t.kind === "scalar" ? scalarKind[t.scalar]! : t.kind === "enum" ? Kind.Enum : Kind.Message
  const wire = wireOfKind(kind)
  const typedArray: FieldPlan["typedArray"] =
    field.repeated && field.packed ? (kind === Kind.Float ? "f32" : kind === Kind.Double ? "f64" : undefined) : undefined
  const base: FieldPlan = {
    field,
    name: field.name,
    number: field.number,
    kind,
    repeated: field.repeated,
    packed: field.packed,
    typedArray,
    wire,
    tagBytes: tagBytes(field.number * 8 + (field.packed ? WIRE_LEN : wire))
  }
  if (t.kind === "enum") {
    const values = enumType(t.enum).values
    return {
      ...base,
      enumByNumber: new Map(values.map(([n, v]) => [v, n])),
      enumByName: new Map(values.map(([n, v]) => [n, v]))
    }
  }
  if (t.kind === "message") return { ...base, messageName: t.message }
  return base
}

const plans = new Map<string, MessagePlan>()

/** The plan of a message (built on first use); throws on an unknown message name. */
export const messagePlan = (name: string): MessagePlan => {
  let plan = plans.get(name)
  if (plan === undefined) {
    const desc = messageType(name)
    const fields = desc.fields.map(planField)
    plan = {
      name,
      desc,
      byNumber: new Map(fields.map((f) => [f.number, f])),
      byName: new Map(fields.map((f) => [f.name, f])),
      sorted: [...fields].sort((a, b) => a.number - b.number)
    }
    plans.set(name, plan)
  }
  return plan
}

/** True on little-endian hosts, where typed arrays can be filled by copying wire bytes directly. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
