/**
 * Defaults of Caffe's fields. Plain messages hold only PRESENT fields (presence matters in Caffe), so
 * code that wants the effective value asks here instead of writing `?? 0.75` by hand.
 */
import type { FieldDescriptor } from "./descriptor.js"
import { enumType, fieldByName } from "./caffe.js"
import type { CaffeMessageName, CaffeMessages } from "./types.js"

const EMPTY_MESSAGE: Readonly<Record<string, never>> = Object.freeze({})

const scalarDefault = (f: FieldDescriptor): unknown => {
  const t = f.type
  if (t.kind === "message") return EMPTY_MESSAGE
  if (t.kind === "enum") return f.default ?? enumType(t.enum).values[0]![0]
  if (f.default !== undefined) {
    // Caffe stores `float` fields as float32: hand out the value Caffe actually computes with.
    return t.scalar === "float" && typeof f.default === "number" ? Math.fround(f.default) : f.default
  }
  switch (t.scalar) {
    case "bool":
      return false
    case "string":
      return ""
    case "bytes":
      return new Uint8Array(0)
    default:
      return 0
  }
}

/**
 * The value Caffe uses for an absent field: the declared `[default = …]`, else the type's zero value
 * ("" / 0 / false / the enum's first value name / an empty message). `float` defaults are rounded to
 * float32 (`fieldDefault("LRNParameter","beta")` = Math.fround(0.75)). For a repeated field this is the
 * per-element default Caffe applies when the list is empty (conv `stride` → 1, `pad` → 0).
 * Throws on an unknown message or field name (a programming error).
 */
export const fieldDefault = (messageName: string, fieldName: string): unknown => {
  const f = fieldByName(messageName, fieldName)
  if (!f) throw new Error(`caffe schema: ${messageName} has no field ${fieldName}`)
  return scalarDefault(f)
}

type Present<T> = Exclude<T, undefined>

/**
 * The field's value if present, else its default. For a repeated field: the list if present, else an
 * empty list (use `fieldDefault` for the per-element default).
 *
 *   getOr(lrnParam, "LRNParameter", "local_size")  // number
 */
export function getOr<N extends CaffeMessageName, K extends keyof CaffeMessages[N] & string>(
  msg: CaffeMessages[N] | undefined,
  messageName: N,
  field: K
): Present<CaffeMessages[N][K]>
export function getOr(msg: Record<string, unknown> | undefined, messageName: string, field: string): unknown {
  const value = msg?.[field]
  if (value !== undefined) return value
  const f = fieldByName(messageName, field)
  if (!f) throw new Error(`caffe schema: ${messageName} has no field ${field}`)
  if (f.repeated) {
    if (f.packed && f.type.kind === "scalar" && f.type.scalar === "float") return new Float32Array(0)
    if (f.packed && f.type.kind === "scalar" && f.type.scalar === "double") return new Float64Array(0)
    return []
  }
  return scalarDefault(f)
}
