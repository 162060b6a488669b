import type { FieldDescriptor, MessageDescriptor, PlainMessage } from "../schema/descriptor.js"
import { formatDouble, formatFloat32 } from "./formatNumber.js"
import type { SchemaLookup } from "./schemaLookup.js"

export interface PrintOptions {
  /**
   * Print `float` fields as float32 values (shortest decimal that rounds to the same float32), as
   * Caffe does. Use it for messages decoded from binary files, whose float fields hold float32 values;
   * leave it off (default) when print → parse must give back the identical double.
   */
  readonly float32?: boolean
}

const utf8 = new TextEncoder()

const octal = (b: number) => `\\${b.toString(8).padStart(3, "0")}`

/** Escapes one byte the way protobuf's CEscape does (for bytes fields). */
const escapeByte = (b: number): string => {
  switch (b) {
    case 10: return "\\n"
    case 13: return "\\r"
    case 9: return "\\t"
    case 34: return '\\"'
    case 39: return "\\'"
    case 92: return "\\\\"
    default: return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : octal(b)
  }
}

/** A string field: control characters escaped, other characters (UTF-8 in the file) kept. */
export const quoteString = (s: string): string => {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (c < 0x20 || c === 0x7f || c === 34 || c === 39 || c === 92) out += escapeByte(c)
    else if (c >= 0xd800 && c <= 0xdfff) for (const b of utf8.encode(ch)) out += octal(b) // lone surrogate
    else out += ch
  }
  return `${out}"`
}

const quoteBytes = (bytes: Uint8Array): string => {
  let out = '"'
  for (const b of bytes) out += escapeByte(b)
  return `${out}"`
}

class Printer {
  private out = ""

  constructor(
    private readonly schema: SchemaLookup,
    private readonly options: PrintOptions
  ) {}

  text(): string {
    return this.out
  }

  message(desc: MessageDescriptor, msg: PlainMessage, indent: string, path: string): void {
    for (const key of Object.keys(msg)) {
      if (!desc.fields.some((f) => f.name === key) && msg[key] !== undefined) {
        throw new Error(`printPrototxt: ${path || desc.name}: ${desc.name} has no field "${key}"`)
      }
    }
    for (const field of desc.fields) {
      const value = msg[field.name]
      if (value === undefined) continue
      const fieldPath = path === "" ? field.name : `${path}.${field.name}`
      if (field.repeated) {
        if (!(Array.isArray(value) || ArrayBuffer.isView(value))) {
          throw new Error(`printPrototxt: ${fieldPath}: repeated field is not an array`)
        }
        const items = value as ArrayLike<unknown>
        const isFloat32Array = value instanceof Float32Array
        for (let i = 0; i < items.length; i++) this.field(field, items[i], indent, `${fieldPath}[${i}]`, isFloat32Array)
      } else {
        this.field(field, value, indent, fieldPath, false)
      }
    }
  }

  private field(field: FieldDescriptor, value: unknown, indent: string, path: string, float32: boolean): void {
    const type = field.type
    if (type.kind === "message") {
      const sub = this.schema.message(type.message)
      if (sub === undefined) throw new Error(`printPrototxt: ${path}: schema has no message type ${type.message}`)
      if (typeof value !== "object" || value === null) throw new Error(`printPrototxt: ${path}: expected a message`)
      this.out += `${indent}${field.name} {\n`
      this.message(sub, value as PlainMessage, `${indent}  `, path)
      this.out += `${indent}}\n`
      return
    }
    this.out += `${indent}${field.name}: ${this.scalar(field, value, path, float32)}\n`
  }

  private scalar(field: FieldDescriptor, value: unknown, path: string, float32: boolean): string {
    const type = field.type
    const bad = (what: string): never => {
      throw new Error(`printPrototxt: ${path}: expected ${what}, got ${typeof value}`)
    }
    if (type.kind === "enum") {
      if (typeof value !== "string") return bad("an enum value name")
      const desc = this.schema.enum(type.enum)
      if (desc !== undefined && !desc.values.some(([n]) => n === value)) {
        throw new Error(`printPrototxt: ${path}: "${value}" is not a value of enum ${type.enum}`)
      }
      return value
    }
    if (type.kind !== "scalar") return bad("a scalar")
    switch (type.scalar) {
      case "string":
        return typeof value === "string" ? quoteString(value) : bad("a string")
      case "bytes":
        return value instanceof Uint8Array ? quoteBytes(value) : bad("a Uint8Array")
      case "bool":
        return typeof value === "boolean" ? String(value) : bad("a boolean")
      case "float":
        if (typeof value !== "number") return bad("a number")
        return float32 || this.options.float32 === true ? formatFloat32(value) : formatDouble(value)
      case "double":
        return typeof value === "number" ? formatDouble(value) : bad("a number")
      default:
        if (typeof value !== "number" || !Number.isInteger(value)) return bad("an integer")
        return String(value)
    }
  }
}

/** Prints a plain message in Caffe's layout: 2-space indent, fields in declaration order. */
export const printPrototxtWith = (
  schema: SchemaLookup,
  messageName: string,
  msg: PlainMessage,
  options: PrintOptions = {}
): string => {
  const desc = schema.message(messageName)
  if (desc === undefined) throw new Error(`printPrototxt: unknown message type ${messageName}`)
  const printer = new Printer(schema, options)
  printer.message(desc, msg, "", "")
  return printer.text()
}
