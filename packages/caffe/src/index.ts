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

// Binary protobuf codec (descriptor-driven), Caffe binary files, Datum and BlobProto helpers.
export { decode } from "./binary/decode.js"
export { encode } from "./binary/encode.js"
export { decodeEffect, encodeEffect } from "./binary/codec.js"
export {
  BlobProtoError,
  CaffeFileError,
  ProtoDecodeError,
  ProtoEncodeError
} from "./binary/errors.js"
export { decodeDatum, encodeDatum } from "./binary/datum.js"
export { blobCount, blobData, blobDiff, blobShape, makeBlobProto, shapeEquals } from "./binary/blob.js"
export { writeFileAtomic, writeFileAtomicSync } from "./binary/atomic-write.js"
export {
  readBinaryproto,
  readBinaryprotoSync,
  readCaffemodel,
  readCaffemodelSync,
  type ReadCaffemodelOptions,
  readMessageFile,
  readMessageFileSync,
  readSolverState,
  readSolverStateSync,
  writeBinaryproto,
  writeBinaryprotoSync,
  writeCaffemodel,
  writeCaffemodelSync,
  writeMessageFile,
  writeMessageFileSync,
  writeSolverState,
  writeSolverStateSync
} from "./binary/files.js"

// Prototxt (protobuf text format) parser/printer and the file readers that run Caffe's upgrades.
export {
  PrototxtError,
  formatDouble,
  formatFloat32,
  shortestFloat32,
  parsePrototxt,
  parsePrototxtEffect,
  printPrototxt,
  readNetPrototxt,
  readNetPrototxtSync,
  readSolverPrototxt,
  readSolverPrototxtSync,
  type ParseOptions,
  type PrintOptions,
  type ReadPrototxtOptions
} from "./text/index.js"

// Caffe's legacy-format upgrades (UpgradeNetAsNeeded / solver upgrades) as pure functions.
export {
  UpgradeError,
  upgradeNetAsNeeded,
  upgradeNetAsNeededEffect,
  upgradeSolverAsNeeded,
  upgradeSolverAsNeededEffect,
  type SolverUpgradeOptions,
  type UpgradeLogger,
  type UpgradeLogLevel,
  type UpgradeOptions
} from "./upgrade/index.js"

// Net graph (NetState filter, splits, shapes, parameter ownership) and solver net resolution.
export * from "./graph/index.js"

// The text format over other schemas (deepspark's own settings files use it).
export { parsePrototxtWith, schemaFromDescriptors, type SchemaLookup } from "./text/index.js"
