/**
 * convert_imageset: a list of "path label" lines under a root folder → Datums with keys
 * `%08d_<path>` (the line's index after the optional shuffle). Without --encoded each image is decoded
 * (colour BGR, or gray), optionally resized to resize_height × resize_width, and stored as raw CHW
 * bytes; with --encoded the file bytes are stored as they are (encoded = true) unless a resize asks for
 * re-encoding in the file's own format. Like Caffe, unreadable images are skipped with a warning and
 * their index is not reused. With --check_size every image must have the first stored image's
 * channels × height × width (after any resize; checked on the decoded image, also with --encoded), else
 * the conversion stops with an error naming the list line and the image.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import type { Backend } from "../db/datum-db.js"
import { createDatumDb } from "../db/open.js"
import { encodeDatum, formatInt } from "../datum.js"
import { ImageError } from "../errors.js"
import { decodeImage, encodeImage } from "../image/decode-image.js"
import { readImageList } from "../image/image-list.js"
import { SeededRng, shuffleInPlace } from "../rng.js"
import type { Rng } from "../rng.js"

export interface ImagesetOptions {
  readonly backend?: Backend
  readonly resizeHeight?: number
  readonly resizeWidth?: number
  readonly encoded?: boolean
  /** Encoding for --encoded (png, jpg); empty = guess from each file's extension, as Caffe does. */
  readonly encodeType?: string
  readonly shuffle?: boolean
  readonly gray?: boolean
  /** Caffe's --check_size: all images must have the first image's channels × height × width. */
  readonly checkSize?: boolean
  readonly rng?: Rng
  readonly warn?: (message: string) => void
}

export interface ImagesetResult {
  readonly path: string
  readonly count: number
  readonly skipped: ReadonlyArray<string>
}

export const convertImageset = async (
  root: string,
  listFile: string,
  out: string,
  options: ImagesetOptions = {}
): Promise<ImagesetResult> => {
  const lines = readImageList(listFile)
  if (options.shuffle) shuffleInPlace(lines, options.rng ?? new SeededRng(Date.now()))
  const height = options.resizeHeight ?? 0
  const width = options.resizeWidth ?? 0
  const mode = options.gray ? "gray" : "color"
  const db = await createDatumDb(out, options.backend ?? "lmdb")
  const skipped: Array<string> = []
  let count = 0
  let firstShape: { readonly shape: string; readonly source: string } | null = null
  try {
    for (let id = 0; id < lines.length; id++) {
      const { file, label, line } = lines[id]!
      const full = path.join(root, file)
      const source = `${full} (${listFile}:${line})`
      let value: Uint8Array
      let shape: string
      try {
        const bytes = readFileSync(full)
        const image = await decodeImage(bytes, source, { mode, height, width })
        shape = `${image.channels}×${image.height}×${image.width}`
        if (options.encoded) {
          const ext = path.extname(file).slice(1).toLowerCase()
          const type = options.encodeType || ext
          const keepFile = height === 0 && width === 0 && (type === ext || (type === "jpg" && ext === "jpeg"))
          const data = keepFile ? bytes : await encodeImage(image, type, source)
          value = encodeDatum({ data, label, encoded: true })
        } else {
          value = encodeDatum({ channels: image.channels, height: image.height, width: image.width, data: image.data, label })
        }
      } catch (e) {
        skipped.push(file)
        options.warn?.(`Could not read or decode ${source}: ${(e as Error).message}`)
        continue
      }
      if (options.checkSize) {
        if (firstShape === null) firstShape = { shape, source }
        else if (shape !== firstShape.shape) {
          throw new ImageError({
            source: `${listFile}:${line}`,
            message: `${listFile}:${line}: image ${full} is ${shape} (channels×height×width), expected ${firstShape.shape} like the first image, ${firstShape.source} (--check_size)`
          })
        }
      }
      await db.put(`${formatInt(id, 8)}_${file}`, value)
      count++
    }
  } finally {
    await db.close()
  }
  return { path: out, count, skipped }
}
