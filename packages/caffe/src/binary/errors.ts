/**
 * Typed errors of the binary layer. Every failure on bad input is one of these (never a RangeError or
 * a hang), so callers can `Effect.catchTag` them and users see which file / field / byte went wrong.
 */
import { Data } from "effect"

/** Truncated or corrupt protobuf bytes. */
export class ProtoDecodeError extends Data.TaggedError("ProtoDecodeError")<{
  readonly message: string
  /** The top-level message being decoded ("NetParameter"). */
  readonly messageName: string
  /** Where inside it, e.g. "layer[3].blobs[0].data" ("" = the top level). */
  readonly fieldPath: string
  /** Byte offset in the input where the problem was detected. */
  readonly offset: number
  readonly reason: string
  /** The file the bytes came from, when known. */
  readonly file?: string
}> {}

export const makeProtoDecodeError = (args: {
  readonly messageName: string
  readonly fieldPath: string
  readonly offset: number
  readonly reason: string
  readonly file?: string
}): ProtoDecodeError =>
  new ProtoDecodeError({
    ...args,
    message:
      `cannot decode ${args.messageName}${args.file !== undefined ? ` from ${args.file}` : ""}: ` +
      `${args.reason} at byte ${args.offset}${args.fieldPath ? ` (field ${args.fieldPath})` : ""}`
  })

/** A plain message that does not fit the schema (unknown key, wrong value type, out of range). */
export class ProtoEncodeError extends Data.TaggedError("ProtoEncodeError")<{
  readonly message: string
  readonly messageName: string
  readonly fieldPath: string
  readonly reason: string
}> {}

export const makeProtoEncodeError = (args: {
  readonly messageName: string
  readonly fieldPath: string
  readonly reason: string
}): ProtoEncodeError =>
  new ProtoEncodeError({
    ...args,
    message: `cannot encode ${args.messageName}${args.fieldPath ? ` field ${args.fieldPath}` : ""}: ${args.reason}`
  })

/** A BlobProto whose shape and values disagree (Caffe: CHECK_EQ(count, data_size)). */
export class BlobProtoError extends Data.TaggedError("BlobProtoError")<{
  readonly message: string
  readonly reason: string
}> {}

export const makeBlobProtoError = (reason: string): BlobProtoError =>
  new BlobProtoError({ message: `bad BlobProto: ${reason}`, reason })

/** Reading or writing a file failed at the OS level. */
export class CaffeFileError extends Data.TaggedError("CaffeFileError")<{
  readonly message: string
  readonly path: string
  readonly operation: "read" | "write"
  readonly cause: unknown
}> {}

export const makeCaffeFileError = (path: string, operation: "read" | "write", cause: unknown): CaffeFileError =>
  new CaffeFileError({
    message: `cannot ${operation} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    path,
    operation,
    cause
  })
