import type { FieldDescriptor, FieldType, ScalarType } from "../schema/descriptor.js"
import { schemaFromDescriptors, type SchemaLookup } from "./schemaLookup.js"

/** A small schema exercising every field kind, for the parser/printer unit tests. */

const scalars: ReadonlySet<string> = new Set(["double", "float", "int32", "int64", "uint32", "uint64", "bool", "string", "bytes"])
const type = (t: string): FieldType =>
  scalars.has(t) ? { kind: "scalar", scalar: t as ScalarType } : t === "E" ? { kind: "enum", enum: "E" } : { kind: "message", message: t }
let n = 0
const opt = (name: string, t: string): FieldDescriptor => ({ name, number: ++n, type: type(t), repeated: false, packed: false })
const rep = (name: string, t: string): FieldDescriptor => ({ ...opt(name, t), repeated: true })
const pck = (name: string, t: string): FieldDescriptor => ({ ...opt(name, t), repeated: true, packed: true })

export const testSchema: SchemaLookup = schemaFromDescriptors(
  [
    {
      name: "T",
      fields: [
        opt("i32", "int32"),
        opt("u32", "uint32"),
        opt("i64", "int64"),
        opt("u64", "uint64"),
        opt("f", "float"),
        opt("d", "double"),
        opt("b", "bool"),
        opt("s", "string"),
        opt("by", "bytes"),
        opt("e", "E"),
        rep("ri", "int32"),
        rep("rf", "float"),
        rep("rs", "string"),
        rep("re", "E"),
        rep("rb", "bool"),
        pck("pf", "float"),
        pck("pd", "double"),
        opt("sub", "T"),
        rep("rsub", "T")
      ]
    }
  ],
  [{ name: "E", values: [["A", 0], ["B", 1], ["NEG", -1]] }]
)
