import type { FieldDescriptor, MessageDescriptor, PlainMessage, ScalarType } from "../schema/descriptor.js"
import { PrototxtError } from "./PrototxtError.js"
import { fieldNamed, type SchemaLookup } from "./schemaLookup.js"
import { type Token, TokenizeFailure, Tokenizer } from "./tokenizer.js"

export interface ParseOptions {
  /** Named in errors; defaults to "<text>". */
  readonly file?: string
  /** Deepest message nesting accepted (protobuf's own limit is 100). */
  readonly maxDepth?: number
}

const INT_RANGES: Partial<Record<ScalarType, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  // int64 values are JS numbers (CONTRIBUTING.md, "Code"): only the exactly representable range is accepted.
  int64: [-(2n ** 53n - 1n), 2n ** 53n - 1n],
  uint64: [0n, 2n ** 53n - 1n]
}

const utf8 = new TextDecoder("utf-8")

const shown = (t: Token): string => {
  if (t.kind === "eof") return "end of file"
  const text = t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text
  return `"${text}"`
}

/** Internal: carries the error out of deep recursion; converted to PrototxtError at the top. */
class Failure {
  constructor(
    readonly reason: string,
    readonly token: { readonly line: number; readonly column: number },
    readonly path: string
  ) {}
}

class Parser {
  private readonly tokens: Tokenizer
  private peeked: Token | undefined
  /** Field path for tokenizer errors (tokens are read lazily, so this is where the reader stands). */
  private where = ""

  constructor(
    private readonly schema: SchemaLookup,
    text: string,
    private readonly maxDepth: number
  ) {
    this.tokens = new Tokenizer(text)
  }

  private get cur(): Token {
    if (this.peeked === undefined) {
      try {
        this.peeked = this.tokens.next()
      } catch (e) {
        if (e instanceof TokenizeFailure) throw new Failure(e.reason, e, this.where)
        throw e
      }
    }
    return this.peeked
  }

  private advance(): Token {
    const t = this.cur
    this.peeked = undefined
    return t
  }

  private isSymbol(s: string): boolean {
    return this.cur.kind === "symbol" && this.cur.text === s
  }

  private trySymbol(s: string): boolean {
    if (!this.isSymbol(s)) return false
    this.advance()
    return true
  }

  private fail(reason: string, token: Token, path: string): never {
    throw new Failure(reason, token, path)
  }

  parseTop(desc: MessageDescriptor): PlainMessage {
    return this.messageBody(desc, "", null, 0)
  }

  /** Fields until the closer (or end of file at the top level); `opener` is the `{`/`<` token. */
  private messageBody(desc: MessageDescriptor, path: string, opener: Token | null, depth: number): PlainMessage {
    const msg: PlainMessage = {}
    const seen = new Map<string, Token>()
    const closer = opener === null ? null : opener.text === "<" ? ">" : "}"
    for (;;) {
      this.where = path
      const t = this.cur
      if (t.kind === "eof") {
        if (opener === null) break
        this.fail(
          `unterminated block: "${opener.text}" at ${opener.line}:${opener.column} is never closed (end of file reached)`,
          opener,
          path
        )
      }
      if (closer !== null && t.kind === "symbol" && t.text === closer) {
        this.advance()
        break
      }
      if (t.kind !== "ident") {
        this.fail(
          t.kind === "symbol" && (t.text === "}" || t.text === ">")
            ? `unexpected ${shown(t)}${closer === null ? " (no block is open)" : `, expected field name or "${closer}"`}`
            : `expected field name, got ${shown(t)}`,
          t,
          path
        )
      }
      const field = fieldNamed(desc, t.text)
      const fieldPath = path === "" ? t.text : `${path}.${t.text}`
      if (field === undefined) this.fail(`unknown field "${t.text}" in ${desc.name}`, t, fieldPath)
      if (!field.repeated) {
        const first = seen.get(field.name)
        if (first !== undefined) {
          this.fail(
            `non-repeated field "${field.name}" is specified multiple times (first at ${first.line}:${first.column})`,
            t,
            fieldPath
          )
        }
        seen.set(field.name, t)
      }
      this.advance()
      this.where = fieldPath
      this.fieldValue(msg, field, fieldPath, depth)
      this.where = path
      if (!this.trySymbol(";")) this.trySymbol(",")
    }
    for (const f of desc.fields) {
      if (!(f.packed && f.repeated && f.type.kind === "scalar")) continue
      const arr = msg[f.name]
      if (!Array.isArray(arr)) continue
      if (f.type.scalar === "float") msg[f.name] = Float32Array.from(arr as Array<number>)
      else if (f.type.scalar === "double") msg[f.name] = Float64Array.from(arr as Array<number>)
    }
    return msg
  }

  private store(msg: PlainMessage, field: FieldDescriptor, value: unknown): void {
    if (field.repeated) {
      const arr = msg[field.name] as Array<unknown> | undefined
      if (arr === undefined) msg[field.name] = [value]
      else arr.push(value)
    } else {
      msg[field.name] = value
    }
  }

  private fieldValue(msg: PlainMessage, field: FieldDescriptor, fieldPath: string, depth: number): void {
    const type = field.type
    if (type.kind === "message") {
      const sub = this.schema.message(type.message)
      if (sub === undefined) this.fail(`schema has no message type ${type.message}`, this.cur, fieldPath)
      const hadColon = this.trySymbol(":")
      const element = () => {
        const index = field.repeated ? ((msg[field.name] as Array<unknown> | undefined)?.length ?? 0) : -1
        const elementPath = index >= 0 ? `${fieldPath}[${index}]` : fieldPath
        const open = this.cur
        if (!(open.kind === "symbol" && (open.text === "{" || open.text === "<"))) {
          this.fail(`expected "{" to open message ${sub.name}, got ${shown(open)}`, open, elementPath)
        }
        if (depth + 1 > this.maxDepth) this.fail(`messages nested deeper than ${this.maxDepth} levels`, open, elementPath)
        this.advance()
        this.store(msg, field, this.messageBody(sub, elementPath, open, depth + 1))
      }
      if (hadColon && this.isSymbol("[")) {
        if (!field.repeated) this.fail(`list syntax "[…]" used for non-repeated field "${field.name}"`, this.cur, fieldPath)
        this.list(element, fieldPath)
      } else {
        element()
      }
      return
    }
    if (!this.trySymbol(":")) this.fail(`expected ":" after field name "${field.name}", got ${shown(this.cur)}`, this.cur, fieldPath)
    const element = () => this.store(msg, field, this.scalarValue(field, fieldPath))
    if (this.isSymbol("[")) {
      if (!field.repeated) this.fail(`list syntax "[…]" used for non-repeated field "${field.name}"`, this.cur, fieldPath)
      this.list(element, fieldPath)
    } else {
      element()
    }
  }

  /** `[a, b, …]` (possibly empty); the current token is `[`. */
  private list(element: () => void, fieldPath: string): void {
    this.advance()
    if (this.trySymbol("]")) return
    for (;;) {
      element()
      if (this.trySymbol(",")) continue
      if (this.trySymbol("]")) return
      this.fail(`expected "," or "]" in list, got ${shown(this.cur)}`, this.cur, fieldPath)
    }
  }

  private scalarValue(field: FieldDescriptor, fieldPath: string): unknown {
    const type = field.type
    if (type.kind === "enum") return this.enumValue(type.enum, fieldPath)
    if (type.kind !== "scalar") return this.fail("internal: message field in scalarValue", this.cur, fieldPath)
    const scalar = type.scalar
    switch (scalar) {
      case "string":
      case "bytes": {
        const first = this.cur
        if (first.kind !== "string") this.fail(`expected a quoted string for ${scalar} field "${field.name}", got ${shown(first)}`, first, fieldPath)
        const parts: Array<Uint8Array> = []
        while (this.cur.kind === "string") parts.push(this.advance().bytes!)
        const bytes = parts.length === 1 ? parts[0]! : concat(parts)
        return scalar === "string" ? utf8.decode(bytes) : bytes
      }
      case "bool": {
        const t = this.advance()
        if (t.kind === "ident") {
          if (t.text === "true" || t.text === "True" || t.text === "t") return true
          if (t.text === "false" || t.text === "False" || t.text === "f") return false
        } else if (t.kind === "int") {
          const v = integerOf(t.text)
          if (v === 0n) return false
          if (v === 1n) return true
        }
        return this.fail(`invalid value ${shown(t)} for bool field "${field.name}" (expected true/false/True/False/t/f/1/0)`, t, fieldPath)
      }
      case "float":
      case "double": {
        const start = this.cur
        const negative = this.trySymbol("-")
        const t = this.advance()
        let v: number
        if (t.kind === "float") v = Number(t.text.replace(/[fF]$/, ""))
        else if (t.kind === "int") v = Number(integerOf(t.text))
        else if (t.kind === "ident" && /^(inf|infinity)$/i.test(t.text)) v = Infinity
        else if (t.kind === "ident" && /^nan$/i.test(t.text)) v = NaN
        else return this.fail(`expected a number for ${scalar} field "${field.name}", got ${shown(t)}`, t, fieldPath)
        if (Number.isNaN(v) && t.kind !== "ident") this.fail(`invalid number ${shown(t)}`, start, fieldPath)
        return negative ? -v : v
      }
      default: {
        const start = this.cur
        const negative = this.trySymbol("-")
        const t = this.advance()
        if (t.kind !== "int") {
          return this.fail(`expected an integer for ${scalar} field "${field.name}", got ${shown(t)}`, t, fieldPath)
        }
        const v = negative ? -integerOf(t.text) : integerOf(t.text)
        const [lo, hi] = INT_RANGES[scalar]!
        if (v < lo || v > hi) {
          return this.fail(`value ${negative ? "-" : ""}${t.text} out of range for ${scalar} field "${field.name}" [${lo}, ${hi}]`, start, fieldPath)
        }
        return Number(v)
      }
    }
  }

  private enumValue(enumName: string, fieldPath: string): string {
    const desc = this.schema.enum(enumName)
    const start = this.cur
    if (desc === undefined) this.fail(`schema has no enum type ${enumName}`, start, fieldPath)
    const allowed = () => desc.values.map(([n]) => n).join(", ")
    if (start.kind === "ident") {
      this.advance()
      if (desc.values.some(([n]) => n === start.text)) return start.text
      return this.fail(`unknown value "${start.text}" for enum ${enumName} (allowed: ${allowed()})`, start, fieldPath)
    }
    const negative = this.trySymbol("-")
    const t = this.advance()
    if (t.kind === "int") {
      const v = negative ? -integerOf(t.text) : integerOf(t.text)
      const hit = desc.values.find(([, n]) => BigInt(n) === v)
      if (hit !== undefined) return hit[0]
      return this.fail(`unknown number ${v} for enum ${enumName} (allowed: ${allowed()})`, start, fieldPath)
    }
    return this.fail(`expected a value of enum ${enumName} (${allowed()}), got ${shown(t)}`, t, fieldPath)
  }
}

/** Integer token text (decimal, 0x hex, leading-0 octal) as a BigInt. */
const integerOf = (text: string): bigint =>
  text.length > 1 && text[0] === "0" && text[1] !== "x" && text[1] !== "X" ? BigInt(`0o${text.slice(1)}`) : BigInt(text)

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/**
 * Parses protobuf text format as message `messageName` of `schema`. Throws PrototxtError (only) on
 * bad input.
 */
export const parsePrototxtWith = (
  schema: SchemaLookup,
  messageName: string,
  text: string,
  options: ParseOptions = {}
): PlainMessage => {
  const file = options.file ?? "<text>"
  const desc = schema.message(messageName)
  if (desc === undefined) {
    throw new PrototxtError({ file, line: 0, column: 0, path: "", reason: `unknown message type ${messageName}` })
  }
  try {
    return new Parser(schema, text, options.maxDepth ?? 100).parseTop(desc)
  } catch (e) {
    if (e instanceof Failure) {
      throw new PrototxtError({ file, line: e.token.line, column: e.token.column, path: e.path, reason: e.reason })
    }
    throw e
  }
}
