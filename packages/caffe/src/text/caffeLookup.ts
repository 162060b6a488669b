import { caffeSchema } from "../schema/caffe.js"
import type { SchemaLookup } from "./schemaLookup.js"

/** The real Caffe schema as the text format's lookup (unknown names → undefined, not a throw). */
export const caffeLookup: SchemaLookup = {
  message: (name) => caffeSchema.messages.get(name),
  enum: (name) => caffeSchema.enums.get(name)
}
