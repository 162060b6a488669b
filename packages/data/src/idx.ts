/**
 * IDX files (the original MNIST distribution format): big-endian uint32 header (magic, count, then
 * rows and cols for images) followed by row-major uint8 items. Files may be gzipped (as downloaded
 * from the MNIST site); they are detected by the gzip magic bytes 1F 8B and inflated.
 */
import { readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"
import { IdxFormatError } from "./errors.js"

export const IDX_IMAGES_MAGIC = 2051
export const IDX_LABELS_MAGIC = 2049

export interface IdxImages {
  readonly file: string
  readonly count: number
  readonly rows: number
  readonly cols: number
  /** count · rows · cols bytes, item i at [i·rows·cols, (i+1)·rows·cols). */
  readonly pixels: Uint8Array
}

export interface IdxLabels {
  readonly file: string
  readonly count: number
  readonly labels: Uint8Array
}

const readBytes = (file: string): Uint8Array => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new IdxFormatError({ file, message: `${file}: cannot read IDX file (${(e as Error).message})` })
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes)
    } catch (e) {
      throw new IdxFormatError({ file, message: `${file}: gzip data is corrupt (${(e as Error).message})` })
    }
  }
  // plain Uint8Array view (not a Buffer), like every record in deepspark
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

const header = (file: string, bytes: Uint8Array, words: number, what: string): Array<number> => {
  if (bytes.length < 4 * words) {
    throw new IdxFormatError({
      file,
      message: `${file}: ${bytes.length} bytes is too short for an IDX ${what} header (${4 * words} bytes expected)`
    })
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Array.from({ length: words }, (_, i) => view.getUint32(4 * i, false))
}

/** Reads an IDX3 image file (magic 2051). */
export const readIdxImages = (file: string): IdxImages => {
  const bytes = readBytes(file)
  const [magic, count, rows, cols] = header(file, bytes, 4, "images") as [number, number, number, number]
  if (magic !== IDX_IMAGES_MAGIC) {
    throw new IdxFormatError({
      file,
      message: `${file}: magic number ${magic} is not an IDX image file (expected ${IDX_IMAGES_MAGIC}${
        magic === IDX_LABELS_MAGIC ? "; this is a label file" : ""
      })`
    })
  }
  const expected = 16 + count * rows * cols
  if (bytes.length !== expected) {
    throw new IdxFormatError({
      file,
      message: `${file}: ${bytes.length} bytes, expected ${expected} for ${count} images of ${rows}x${cols}`
    })
  }
  return { file, count, rows, cols, pixels: bytes.subarray(16) }
}

/** Reads an IDX1 label file (magic 2049). */
export const readIdxLabels = (file: string): IdxLabels => {
  const bytes = readBytes(file)
  const [magic, count] = header(file, bytes, 2, "labels") as [number, number]
  if (magic !== IDX_LABELS_MAGIC) {
    throw new IdxFormatError({
      file,
      message: `${file}: magic number ${magic} is not an IDX label file (expected ${IDX_LABELS_MAGIC}${
        magic === IDX_IMAGES_MAGIC ? "; this is an image file" : ""
      })`
    })
  }
  const expected = 8 + count
  if (bytes.length !== expected) {
    throw new IdxFormatError({
      file,
      message: `${file}: ${bytes.length} bytes, expected ${expected} for ${count} labels`
    })
  }
  return { file, count, labels: bytes.subarray(8) }
}

/** Reads a matching image/label pair; the counts must agree. */
export const readIdxPair = (imagesFile: string, labelsFile: string): { images: IdxImages; labels: IdxLabels } => {
  const images = readIdxImages(imagesFile)
  const labels = readIdxLabels(labelsFile)
  if (images.count !== labels.count) {
    throw new IdxFormatError({
      file: labelsFile,
      message: `${labelsFile}: ${labels.count} labels but ${imagesFile} holds ${images.count} images (expected equal counts)`
    })
  }
  return { images, labels }
}
