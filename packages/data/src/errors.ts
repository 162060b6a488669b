/**
 * Errors raised by @deepspark/data. Each names where the problem is (file / database path, key, worker,
 * partition) and what was expected, so a user can fix the input without reading the source.
 * They are Effect tagged errors (usable in Effect's typed error channel) and plain Errors (throwable from
 * the synchronous readers the engine calls).
 */
import { Data } from "effect"

/** A malformed IDX (MNIST) file. */
export class IdxFormatError extends Data.TaggedError("IdxFormatError")<{
  readonly file: string
  readonly message: string
}> {}

/** A database that cannot be opened, read or written. */
export class DatumDbError extends Data.TaggedError("DatumDbError")<{
  readonly path: string
  readonly message: string
}> {}

/** A record (Datum) that cannot be used: undecodable bytes, wrong shape, bad label. */
export class RecordError extends Data.TaggedError("RecordError")<{
  readonly source: string
  readonly key: string
  readonly message: string
}> {}

/** Bad transformation parameters (mean file shape, crop larger than the image, ...). */
export class TransformError extends Data.TaggedError("TransformError")<{
  readonly source: string
  readonly message: string
}> {}

/** A worker that cannot read the partition it was placed with. */
export class PartitionError extends Data.TaggedError("PartitionError")<{
  readonly worker: string
  readonly partition: string
  readonly message: string
}> {}

/** An image file or encoded record that cannot be decoded, or a bad image list line. */
export class ImageError extends Data.TaggedError("ImageError")<{
  readonly source: string
  readonly message: string
}> {}
