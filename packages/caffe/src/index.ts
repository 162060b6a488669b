// Public API of @deepspark/caffe. Several people add exports here: append, don't reorder or clobber.

// Schema descriptor, defaults and generated message types.
export type {
  EnumDescriptor,
  FieldDescriptor,
  FieldType,
  MessageDescriptor,
  PlainMessage,
  ScalarType
} from "./schema/descriptor.js"
export {
  caffeSchema,
  enumName,
  enumNumber,
  enumType,
  fieldByName,
  fieldByNumber,
  messageType,
  type CaffeSchema
} from "./schema/caffe.js"
export { fieldDefault, getOr } from "./schema/defaults.js"
export type * from "./schema/types.js"
