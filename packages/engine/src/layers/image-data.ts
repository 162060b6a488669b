import { getOr } from "@deepspark/caffe"
import type { ChwImage, DataTransformer, ImageListEntry, RawImage, SyncImageDecoder } from "@deepspark/data"
import { readFileSync } from "node:fs"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import type { Rng } from "../core/rng.js"
import { fileDataService, resolveDataPath, type FileDataService } from "./file-data-service.js"

/**
 * Caffe's ImageDataLayer: a list file of "path label" lines (split at the last space), images read from
 * root_folder + path, decoded as BGR colour (is_color) or gray, optionally resized to new_height ×
 * new_width, transformed by DataTransformer (crop, mirror, mean, scale); shuffled with the layer's rng
 * at setup and at each wrap when `shuffle` is set; rand_skip skips Rand(rand_skip) lines at the start.
 * Tops: data (batch, C, H, W) shaped by the first image of each batch (images of one batch must agree),
 * label (batch). Images are decoded synchronously at forward time (a worker thread runs sharp).
 * The deprecated image_data_param scale/mean_file/crop_size/mirror are ignored, as in Caffe (the
 * V1 upgrade moves them into transform_param).
 */
export class ImageDataLayer extends Layer {
  private svc!: FileDataService
  private lines: ImageListEntry[] = []
  private listFile = ""
  private rootFolder = ""
  private pos = 0
  private batchSize = 0
  private newHeight = 0
  private newWidth = 0
  private isColor = true
  private shuffle = false
  private shuffleRng!: Rng
  private transformer!: DataTransformer
  private decoder: SyncImageDecoder | null = null

  override exactNumBottomBlobs(): number {
    return 0
  }
  override exactNumTopBlobs(): number {
    return 2
  }

  layerSetUp(_bottom: Blob[], top: Blob[]): void {
    const p = this.param.image_data_param ?? {}
    this.svc = fileDataService(this.ctx, (d) => this.setupError(d))
    this.batchSize = getOr(p, "ImageDataParameter", "batch_size")
    if (!(this.batchSize > 0)) throw this.setupError(`image_data_param.batch_size must be positive, got ${this.batchSize}`)
    this.newHeight = getOr(p, "ImageDataParameter", "new_height")
    this.newWidth = getOr(p, "ImageDataParameter", "new_width")
    if ((this.newHeight > 0) !== (this.newWidth > 0) || this.newHeight < 0 || this.newWidth < 0)
      throw this.setupError(`new_height (${this.newHeight}) and new_width (${this.newWidth}) must be set together (both > 0) or not at all`)
    this.isColor = getOr(p, "ImageDataParameter", "is_color")
    this.shuffle = getOr(p, "ImageDataParameter", "shuffle")
    this.rootFolder = getOr(p, "ImageDataParameter", "root_folder")
    if (p.source === undefined || p.source === "") throw this.setupError("image_data_param.source (the image list file) is required")
    const data = this.svc.data
    this.listFile = resolveDataPath(this.svc, p.source)
    this.lines = data.readImageList(this.listFile)
    if (this.lines.length === 0) throw this.setupError(`${this.listFile}: lists no images`)
    // Separate generators for the list order and the transformer, so crops do not shift the shuffles.
    this.shuffleRng = this.ctx.rng.fork()
    const transformRng = this.ctx.rng.fork()
    if (this.shuffle) data.shuffleInPlace(this.lines, this.shuffleRng)
    const randSkip = getOr(p, "ImageDataParameter", "rand_skip")
    this.pos = randSkip > 0 ? this.ctx.rng.nextInt(randSkip) : 0
    if (this.pos >= this.lines.length) throw this.setupError(`rand_skip drew ${this.pos}, beyond the ${this.lines.length} images of ${this.listFile}`)
    this.decoder = data.createSyncImageDecoder()
    this.transformer = new data.DataTransformer(this.param.transform_param ?? {}, this.ctx.phase, transformRng, {
      baseDir: this.svc.baseDir,
      decoder: this.decoder,
      source: `layer "${this.name}" transform_param`
    })
    const first = this.read(this.lines[this.pos]!)
    top[0]!.reshape([this.batchSize, ...this.transformer.outputShape(first)])
    top[1]!.reshape([this.batchSize])
  }

  reshape(): void {}

  /** Caffe's ReadImageToCVMat(root_folder + file, new_height, new_width, is_color). */
  private read(entry: ImageListEntry): RawImage {
    const file = resolveDataPath(this.svc, this.rootFolder + entry.file)
    const where = `${this.listFile}:${entry.line}`
    let bytes: Uint8Array
    try {
      bytes = readFileSync(file)
    } catch (e) {
      throw this.setupError(`${where}: cannot read image ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
    }
    let img: ChwImage
    try {
      img = this.decoder!.decode(bytes, { mode: this.isColor ? "color" : "gray", height: this.newHeight, width: this.newWidth })
    } catch (e) {
      throw this.setupError(`${where}: cannot decode image ${file} (${(e as Error).message})`)
    }
    return { channels: img.channels, height: img.height, width: img.width, bytes: img.data, floats: null }
  }

  forward(_bottom: Blob[], top: Blob[]): void {
    let itemShape: [number, number, number] | null = null
    for (let i = 0; i < this.batchSize; i++) {
      const entry = this.lines[this.pos]!
      const img = this.read(entry)
      const shape = this.transformer.outputShape(img)
      const origin = { source: this.listFile, key: `line ${entry.line} (${entry.file})` }
      if (itemShape === null) {
        // As Caffe: the first image of each batch shapes the data top.
        itemShape = shape
        top[0]!.reshape([this.batchSize, ...shape])
      } else if (shape.some((d, k) => d !== itemShape![k])) {
        throw this.setupError(
          `${this.listFile}:${entry.line}: image ${entry.file} gives ${shape.join("×")}, the batch's first image ${itemShape.join("×")} (set new_height/new_width or crop_size)`
        )
      }
      const itemSize = shape[0] * shape[1] * shape[2]
      this.transformer.transformRaw(img, top[0]!.data, i * itemSize, origin)
      top[1]!.data[i] = entry.label
      if (++this.pos >= this.lines.length) {
        this.pos = 0
        if (this.shuffle) this.svc.data.shuffleInPlace(this.lines, this.shuffleRng)
      }
    }
  }

  backward(): void {}

  close(): void {
    void this.transformer?.close()
    void this.decoder?.close()
    this.decoder = null
  }
}
