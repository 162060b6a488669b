/**
 * Asynchronous image decoding (converters, ImageData readers) into Caffe's CHW BGR layout, with
 * OpenCV-like options: colour (IMREAD_COLOR), gray (IMREAD_GRAYSCALE) or native channels, and an
 * optional resize to height × width (both > 0), as ReadImageToCVMat does, with OpenCV INTER_LINEAR's
 * 8-bit fixed-point arithmetic (resize-linear.mjs). Decoding is sharp's (libvips): JPEG decoders and the
 * colour→gray weights can differ from OpenCV's by rounding.
 */
import { readFileSync } from "node:fs"
import { ImageError } from "../errors.js"
import { decodeToChw, encodeFromChw } from "./decode-core.mjs"
import type { ChwImage, ColorMode } from "./decode-core.mjs"

export type { ChwImage, ColorMode }

export interface DecodeOptions {
  readonly mode?: ColorMode
  readonly height?: number
  readonly width?: number
}

/** Decodes image bytes; `source` names the file or record in errors. */
export const decodeImage = async (bytes: Uint8Array, source: string, options: DecodeOptions = {}): Promise<ChwImage> => {
  try {
    return await decodeToChw(bytes, { mode: options.mode ?? "color", height: options.height ?? 0, width: options.width ?? 0 })
  } catch (e) {
    throw new ImageError({ source, message: `${source}: cannot decode image (${(e as Error).message})` })
  }
}

export const readImageFile = async (file: string, options: DecodeOptions = {}): Promise<ChwImage> => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new ImageError({ source: file, message: `${file}: cannot read image (${(e as Error).message})` })
  }
  return decodeImage(bytes, file, options)
}

export const encodeImage = async (image: ChwImage, format: string, source: string): Promise<Uint8Array> => {
  try {
    return await encodeFromChw(image, format)
  } catch (e) {
    throw new ImageError({ source, message: `${source}: cannot encode image as ${format} (${(e as Error).message})` })
  }
}
