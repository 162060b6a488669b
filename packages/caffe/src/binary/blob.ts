/**
 * BlobProto helpers with Caffe's reading rules (Blob::FromProto / Blob::ShapeEquals / Blob::ToProto).
 * Errors are BlobProtoError (thrown; these are synchronous helpers).
 */
import type { BlobProto } from "../schema/types.js"
import { makeBlobProtoError } from "./errors.js"

const hasLegacyDims = (blob: BlobProto): boolean =>
  blob.num !== undefined || blob.channels !== undefined || blob.height !== undefined || blob.width !== undefined

const countOf = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/**
 * The blob's shape as Caffe reads it: if ANY of num/channels/height/width is present the blob is 4-D
 * (absent legacy dims are 0) and `shape` is ignored; otherwise `shape.dim`. No shape at all = a 0-axis
 * blob (shape [], count 1). Does not check the values; `blobData` does.
 */
export const blobShape = (blob: BlobProto): Array<number> => {
  if (hasLegacyDims(blob)) return [blob.num ?? 0, blob.channels ?? 0, blob.height ?? 0, blob.width ?? 0]
  const dims = blob.shape?.dim ?? []
  for (const d of dims) if (d < 0) throw makeBlobProtoError(`negative dimension ${d} in shape [${dims.join(",")}]`)
  return [...dims]
}

/** Number of values the blob's shape holds. */
export const blobCount = (blob: BlobProto): number => countOf(blobShape(blob))

const values = (
  blob: BlobProto,
  single: Float32Array | undefined,
  double: Float64Array | undefined,
  what: "data" | "diff"
): Float32Array => {
  const count = blobCount(blob)
  // Caffe: double_data wins when non-empty.
  const source: Float32Array | Float64Array = double !== undefined && double.length > 0 ? double : (single ?? new Float32Array(0))
  if (source.length !== count) {
    throw makeBlobProtoError(
      `shape [${blobShape(blob).join(",")}] holds ${count} values but ${source === double ? `double_${what}` : what} has ${source.length}`
    )
  }
  return source instanceof Float32Array ? source : Float32Array.from(source)
}

/**
 * The blob's values as float32 (`double_data` converted when it is the source). Throws BlobProtoError
 * when the value count differs from the shape's count. Returns the decoded array itself (no copy) when
 * it is already a Float32Array.
 */
export const blobData = (blob: BlobProto): Float32Array => values(blob, blob.data, blob.double_data, "data")

/** Like blobData for `diff` / `double_diff` (used by solver-state history blobs written with diffs). */
export const blobDiff = (blob: BlobProto): Float32Array => values(blob, blob.diff, blob.double_diff, "diff")

/**
 * A BlobProto as Caffe's Blob::ToProto writes a float blob: `shape` + `data` (+ `diff`). A 0-axis blob
 * (shape []) gets no `shape` field and one value.
 */
export const makeBlobProto = (shape: ReadonlyArray<number>, data: Float32Array, diff?: Float32Array): BlobProto => {
  const count = countOf(shape)
  if (data.length !== count) throw makeBlobProtoError(`shape [${shape.join(",")}] holds ${count} values but data has ${data.length}`)
  if (diff !== undefined && diff.length !== count) {
    throw makeBlobProtoError(`shape [${shape.join(",")}] holds ${count} values but diff has ${diff.length}`)
  }
  const blob: BlobProto = shape.length > 0 ? { shape: { dim: [...shape] }, data } : { data }
  if (diff !== undefined) blob.diff = diff
  return blob
}

/** Caffe's LegacyShape(index): axes counted from the end (index -1..-4), missing axes are 1. */
const legacyDim = (shape: ReadonlyArray<number>, index: number): number =>
  index >= shape.length || index < -shape.length ? 1 : shape[index < 0 ? shape.length + index : index]!

/**
 * Caffe's Blob::ShapeEquals(proto): with legacy dims, compare right-aligned with missing leading axes
 * = 1 (a saved (1,1,4096,9216) matches a (4096,9216) weight); otherwise compare `shape.dim` exactly.
 */
export const shapeEquals = (blob: BlobProto, shape: ReadonlyArray<number>): boolean => {
  if (hasLegacyDims(blob)) {
    return (
      shape.length <= 4 &&
      legacyDim(shape, -4) === (blob.num ?? 0) &&
      legacyDim(shape, -3) === (blob.channels ?? 0) &&
      legacyDim(shape, -2) === (blob.height ?? 0) &&
      legacyDim(shape, -1) === (blob.width ?? 0)
    )
  }
  const dims = blob.shape?.dim ?? []
  return dims.length === shape.length && dims.every((d, i) => d === shape[i])
}
