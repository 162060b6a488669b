/** A blob shape: Caffe's `vector<int>`; `[]` is a 0-axis blob holding one value (loss tops). */
export type Shape = ReadonlyArray<number>

/**
 * A problem found while inferring one layer's shapes. Inference code throws it with the offending blob
 * name (or ""); the graph builder turns it into a ShapeError naming the layer.
 */
export class ShapeProblem extends Error {
  constructor(
    readonly blob: string,
    readonly reason: string
  ) {
    super(reason)
  }
}

/** Product of `shape[start:end]` (Blob::count). */
export const count = (shape: Shape, start = 0, end = shape.length): number => {
  let n = 1
  for (let i = start; i < end; i++) n *= shape[i]!
  return n
}

/** Blob::CanonicalAxisIndex: a negative axis counts from the end; out of range → ShapeProblem. */
export const canonicalAxis = (shape: Shape, axis: number, blob: string, field: string): number => {
  const n = shape.length
  if (axis < -n || axis >= n) {
    throw new ShapeProblem(blob, `${field} ${axis} out of range for the ${n}-D blob with shape ${shapeString(shape)}`)
  }
  return axis < 0 ? axis + n : axis
}

/**
 * Blob::LegacyShape (num/channels/height/width accessors): axes past the end read as 1; only for
 * blobs of at most 4 axes.
 */
export const legacyDim = (shape: Shape, index: number, blob: string): number => {
  if (shape.length > 4) {
    throw new ShapeProblem(blob, `needs a blob of at most 4 axes (legacy num/channels/height/width), got ${shapeString(shape)}`)
  }
  return index < shape.length ? shape[index]! : 1
}

/** Caffe's shape_string without the count: "64 1 28 28" → written here as (64,1,28,28). */
export const shapeString = (shape: Shape): string => `(${shape.join(",")})`

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])
