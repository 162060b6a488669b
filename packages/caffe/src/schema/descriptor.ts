/**
 * The shape of deepspark's own description of Caffe's protobuf schema (written from
 * shared/docs/caffe-facts.md, not from caffe.proto). One descriptor drives the binary codec, the text
 * (prototxt) parser and printer, the upgrades and the generated TypeScript types, so a field is declared
 * exactly once.
 *
 * How messages look in memory ("plain messages"), everywhere in deepspark:
 * - A message is a plain object whose keys are the field names exactly as Caffe spells them (snake_case).
 * - Only PRESENT fields are keys. Presence matters in Caffe (e.g. `ignore_label`, `use_global_stats`);
 *   defaults live in the descriptor and are read with `fieldDefault` / `getOr` (see ./defaults.ts).
 * - Scalars: int32/uint32/int64/uint64/float/double → number; bool → boolean; string → string;
 *   bytes → Uint8Array. Enums → the value's NAME as a string ("MAX", "LMDB").
 * - Repeated fields → arrays; `packed` repeated float → Float32Array, packed repeated double →
 *   Float64Array (blob data stays zero-copy and compact); every other repeated field → plain array.
 * - Nested message → nested plain object.
 */

export type ScalarType =
  | "double"
  | "float"
  | "int32"
  | "int64"
  | "uint32"
  | "uint64"
  | "bool"
  | "string"
  | "bytes"

export type FieldType =
  | { readonly kind: "scalar"; readonly scalar: ScalarType }
  | { readonly kind: "enum"; readonly enum: string }
  | { readonly kind: "message"; readonly message: string }

export interface FieldDescriptor {
  readonly name: string
  readonly number: number
  readonly type: FieldType
  readonly repeated: boolean
  /** proto2 `[packed = true]`: how Caffe writes it. Readers accept both encodings regardless. */
  readonly packed: boolean
  /** proto2 `[default = …]`; absent means the type's zero value ("" / 0 / false / first enum value). */
  readonly default?: number | string | boolean
  readonly deprecated?: boolean
}

export interface MessageDescriptor {
  readonly name: string
  readonly fields: ReadonlyArray<FieldDescriptor>
}

export interface EnumDescriptor {
  readonly name: string
  /** value name → number, in declaration order (the first is the proto2 default). */
  readonly values: ReadonlyArray<readonly [string, number]>
}

export type PlainMessage = { [field: string]: unknown }
