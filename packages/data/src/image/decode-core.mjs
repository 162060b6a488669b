// Image decoding with sharp into Caffe's layout (plain JS so that a worker thread can load it without
// the TypeScript loader; see sync-decoder.ts). Output: CHW planes, channels in BGR order, as OpenCV's
// imread/imdecode followed by Caffe's CVMatToDatum produce them. A resize (ReadImageToCVMat's
// cv::resize, INTER_LINEAR) is ours, with OpenCV's 8-bit fixed-point arithmetic (resize-linear.mjs), applied
// after decoding and the colour/gray conversion as in Caffe.
import { resizeLinearU8 } from "./resize-linear.mjs"

// sharp (a native library, ≈ 0.1 s to load) is loaded on the first image, not with the module: every
// trainer thread imports the data package, and most runs read no encoded images.
let sharpModule
const loadSharp = async () => (sharpModule ??= (await import("sharp")).default)

/**
 * @param {Uint8Array} bytes encoded image (JPEG, PNG, ...)
 * @param {{ mode: "color" | "gray" | "native", height?: number, width?: number }} options
 */
export async function decodeToChw(bytes, options) {
  const sharp = await loadSharp()
  let img = sharp(bytes, { failOn: "error" })
  let gray = options.mode === "gray"
  if (options.mode === "native") {
    const meta = await img.metadata()
    gray = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0) === 1
  }
  img = img.removeAlpha()
  img = gray ? img.grayscale() : img.toColourspace("srgb")
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true })
  const c = info.channels
  const h = info.height
  const w = info.width
  const plane = h * w
  const out = new Uint8Array(c * plane)
  for (let k = 0; k < c; k++) {
    const src = c === 3 ? 2 - k : k // RGB → BGR
    for (let p = 0; p < plane; p++) out[k * plane + p] = data[p * c + src]
  }
  const image = { channels: c, height: h, width: w, data: out }
  return options.height > 0 && options.width > 0 ? resizeLinearU8(image, options.height, options.width) : image
}

/**
 * Encodes CHW BGR planes back into an image file (for convert_imageset --encoded with resizing).
 * @param {{ channels: number, height: number, width: number, data: Uint8Array }} image
 * @param {string} format "png" | "jpg" | "jpeg" | ...
 */
export async function encodeFromChw(image, format) {
  const { channels: c, height: h, width: w, data } = image
  const plane = h * w
  const hwc = Buffer.alloc(c * plane)
  for (let k = 0; k < c; k++) {
    const dst = c === 3 ? 2 - k : k
    for (let p = 0; p < plane; p++) hwc[p * c + dst] = data[k * plane + p]
  }
  const f = format.toLowerCase() === "jpg" ? "jpeg" : format.toLowerCase()
  const sharp = await loadSharp()
  return new Uint8Array(await sharp(hwc, { raw: { width: w, height: h, channels: c } }).toFormat(f).toBuffer())
}
