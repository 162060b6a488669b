import type { EnumDescriptor, FieldDescriptor, MessageDescriptor } from "../schema/descriptor.js"

/**
 * The two look-ups the text format needs from a schema. The parser and printer take one so they can
 * be tested on small hand-written schemas; `caffeSchema` (./caffeSchema.ts) is the real one.
 */
export interface SchemaLookup {
  readonly message: (name: string) => MessageDescriptor | undefined
  readonly enum: (name: string) => EnumDescriptor | undefined
}

/** A lookup over plain arrays of descriptors, with per-message field-name maps built once. */
export const schemaFromDescriptors = (
  messages: ReadonlyArray<MessageDescriptor>,
  enums: ReadonlyArray<EnumDescriptor>
): SchemaLookup => {
  const m = new Map(messages.map((d) => [d.name, d]))
  const e = new Map(enums.map((d) => [d.name, d]))
  return { message: (name) => m.get(name), enum: (name) => e.get(name) }
}

const fieldMaps = new WeakMap<MessageDescriptor, Map<string, FieldDescriptor>>()

/** Field of `message` named `name` (cached map per descriptor). */
export const fieldNamed = (message: MessageDescriptor, name: string): FieldDescriptor | undefined => {
  let map = fieldMaps.get(message)
  if (map === undefined) {
    map = new Map(message.fields.map((f) => [f.name, f]))
    fieldMaps.set(message, map)
  }
  return map.get(name)
}
