/**
 * Caffe's DataTransformer for Datums (facts §4), bit for bit in float32:
 *   do_mirror = mirror && Rand(2)   (drawn first, in both phases)
 *   crop: TRAIN h_off = Rand(H − crop + 1) then w_off = Rand(W − crop + 1); TEST centred
 *   out[c, h, w'] = (v − mean) · scale, w' = width − 1 − w when mirrored; mean = the full-size mean
 *   file at the cropped position, or mean_value[c] (a single value replicated over channels).
 * Encoded Datums are decoded first (BGR; force_color / force_gray, else native channels), as Caffe's
 * cv::Mat path does. Output goes into a caller-provided Float32Array at an offset: no allocation per
 * record for raw Datums.
 */
import path from "node:path"
import type { TransformationParameter } from "@deepspark/caffe"
import type { Datum } from "../datum.js"
import { RecordError, TransformError } from "../errors.js"
import type { Rng } from "../rng.js"
import type { SyncImageDecoder } from "../image/sync-decoder.js"
import { createSyncImageDecoder } from "../image/sync-decoder.js"
import type { MeanBlob } from "./mean-file.js"
import { readMeanFile } from "./mean-file.js"
import { U8AffineBatch } from "./u8-affine.js"

export type Phase = "TRAIN" | "TEST"

/** Where a record came from, for error messages. */
export interface RecordOrigin {
  readonly source: string
  readonly key: string
}

/** A raw (decoded) record: CHW uint8 bytes or float values. */
export interface RawImage {
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly bytes: Uint8Array | null
  readonly floats: ArrayLike<number> | null
}

export interface TransformerOptions {
  /** Folder against which a relative mean_file is resolved (Caffe: the working directory). */
  readonly baseDir?: string
  /** An already loaded mean (tests, or a mean shared between layers). */
  readonly mean?: MeanBlob
  /** Decoder for encoded Datums; created on first use when absent. */
  readonly decoder?: SyncImageDecoder
  /** Where the parameters come from (layer name), for errors. */
  readonly source?: string
}

export class DataTransformer {
  readonly scale: number
  readonly mirror: boolean
  readonly cropSize: number
  readonly mean: MeanBlob | null
  private readonly meanValues: ReadonlyArray<number>
  private decoder: SyncImageDecoder | null
  private ownsDecoder = false
  private readonly source: string
  /** The last record's crop offsets (drawOffsets), kept in fields so a record allocates nothing. */
  private hOff = 0
  private wOff = 0

  constructor(
    readonly param: TransformationParameter,
    readonly phase: Phase,
    readonly rng: Rng,
    options: TransformerOptions = {}
  ) {
    this.source = options.source ?? "transform_param"
    this.scale = Math.fround(param.scale ?? 1)
    this.mirror = param.mirror ?? false
    this.cropSize = param.crop_size ?? 0
    this.meanValues = (param.mean_value ?? []).map(Math.fround)
    this.decoder = options.decoder ?? null
    if (param.mean_file !== undefined && this.meanValues.length > 0) {
      throw new TransformError({ source: this.source, message: `${this.source}: cannot specify mean_file and mean_value at the same time` })
    }
    if (param.force_color && param.force_gray) {
      throw new TransformError({ source: this.source, message: `${this.source}: cannot set both force_color and force_gray` })
    }
    this.mean =
      options.mean ??
      (param.mean_file !== undefined ? readMeanFile(path.resolve(options.baseDir ?? ".", param.mean_file)) : null)
  }

  /** Decodes an encoded Datum (or views a raw one) as CHW values. */
  raw(datum: Datum, origin: RecordOrigin): RawImage {
    if (datum.encoded) {
      if (this.decoder === null) {
        this.decoder = createSyncImageDecoder()
        this.ownsDecoder = true
      }
      const mode = this.param.force_color ? "color" : this.param.force_gray ? "gray" : "native"
      try {
        const img = this.decoder.decode(datum.data ?? new Uint8Array(0), { mode })
        return { channels: img.channels, height: img.height, width: img.width, bytes: img.data, floats: null }
      } catch (e) {
        throw new RecordError({
          ...origin,
          message: `${origin.source}: record "${origin.key}" is an encoded image that does not decode (${(e as Error).message})`
        })
      }
    }
    const channels = datum.channels ?? 0
    const height = datum.height ?? 0
    const width = datum.width ?? 0
    const bytes = datum.data !== undefined && datum.data.length > 0 ? datum.data : null
    const floats = bytes === null ? (datum.float_data ?? []) : null
    const size = bytes !== null ? bytes.length : floats!.length
    if (channels <= 0 || size !== channels * height * width) {
      throw new RecordError({
        ...origin,
        message: `${origin.source}: record "${origin.key}" holds ${size} values for channels ${channels} × height ${height} × width ${width} (expected a positive matching shape)`
      })
    }
    return { channels, height, width, bytes, floats }
  }

  /** The transformed shape [C, crop or H, crop or W] of a record. */
  outputShape(img: { channels: number; height: number; width: number }): [number, number, number] {
    return this.cropSize > 0 ? [img.channels, this.cropSize, this.cropSize] : [img.channels, img.height, img.width]
  }

  /**
   * The batch fast path for raw uint8 records of input shape C×H×W: out = (v − mean) · scale through the
   * crop window, mirrored or not, exactly as transformRaw computes it; each item's window and mirror come
   * from placeItem. Null when the shape is empty or smaller than crop_size, or when the mean does not fit
   * the shape (transformRaw then reports the problem).
   */
  uint8Batch(C: number, H: number, W: number, batchSize: number): U8AffineBatch | null {
    const crop = this.cropSize
    if (C <= 0 || H <= 0 || W <= 0 || H < crop || W < crop) return null
    const mean = this.mean
    if (mean !== null && (mean.channels !== C || mean.height !== H || mean.width !== W)) return null
    const mv = this.meanValues
    if (mv.length !== 0 && mv.length !== 1 && mv.length !== C) return null
    const channelMeans = Float32Array.from({ length: C }, (_, c) => (mv.length === 0 ? 0 : mv.length === 1 ? mv[0]! : mv[c]!))
    return new U8AffineBatch({ channels: C, height: H, width: W, crop, mirror: this.mirror }, batchSize, channelMeans, mean !== null ? mean.data : null, this.scale)
  }

  /**
   * Draws item i's mirror coin and crop offsets for a fast batch (nothing when neither is set), the same
   * draws in the same order as transformRaw makes for a record of the batch's input shape.
   */
  placeItem(batch: U8AffineBatch, i: number): void {
    const doMirror = this.drawMirror()
    this.drawOffsets(batch.height, batch.width)
    batch.place(i, this.hOff, this.wOff, doMirror)
  }

  /** Rand(2) only when mirror is set (short-circuit), in both phases and before the crop offsets, as in Caffe. */
  private drawMirror(): boolean {
    return this.mirror && this.rng.nextInt(2) === 1
  }

  /** Crop offsets into hOff / wOff: TRAIN Rand(H − crop + 1) then Rand(W − crop + 1); TEST centred. */
  private drawOffsets(H: number, W: number): void {
    const crop = this.cropSize
    if (crop <= 0) {
      this.hOff = 0
      this.wOff = 0
    } else if (this.phase === "TRAIN") {
      this.hOff = this.rng.nextInt(H - crop + 1)
      this.wOff = this.rng.nextInt(W - crop + 1)
    } else {
      this.hOff = Math.floor((H - crop) / 2)
      this.wOff = Math.floor((W - crop) / 2)
    }
  }

  /** Transforms one Datum into out[offset .. offset + C·h·w). Returns the number of values written. */
  transform(datum: Datum, out: Float32Array, offset: number, origin: RecordOrigin): number {
    return this.transformRaw(this.raw(datum, origin), out, offset, origin)
  }

  transformRaw(img: RawImage, out: Float32Array, offset: number, origin: RecordOrigin): number {
    const { channels: C, height: H, width: W } = img
    const crop = this.cropSize
    const scale = this.scale
    const doMirror = this.drawMirror()
    if (H < crop || W < crop) {
      throw new RecordError({
        ...origin,
        message: `${origin.source}: record "${origin.key}" is ${H}×${W}, smaller than crop_size ${crop}`
      })
    }
    const mean = this.mean
    if (mean !== null && (mean.channels !== C || mean.height !== H || mean.width !== W)) {
      throw new TransformError({
        source: mean.file,
        message: `${mean.file}: mean is ${mean.channels}×${mean.height}×${mean.width} but record "${origin.key}" of ${origin.source} is ${C}×${H}×${W} (expected equal shapes)`
      })
    }
    let meanValues = this.meanValues
    if (meanValues.length > 0) {
      if (meanValues.length !== 1 && meanValues.length !== C) {
        throw new TransformError({
          source: this.source,
          message: `${this.source}: ${meanValues.length} mean_value entries for ${C} channels (specify either 1 mean_value or as many as channels)`
        })
      }
      if (meanValues.length === 1 && C > 1) meanValues = new Array<number>(C).fill(meanValues[0]!)
    }
    const height = crop > 0 ? crop : H
    const width = crop > 0 ? crop : W
    this.drawOffsets(H, W)
    const hOff = this.hOff
    const wOff = this.wOff
    const count = C * height * width
    if (offset < 0 || offset + count > out.length) {
      throw new TransformError({
        source: this.source,
        message: `${this.source}: output holds ${out.length} values, cannot write ${count} at offset ${offset}`
      })
    }
    const bytes = img.bytes
    const floats = img.floats
    const f = Math.fround
    for (let c = 0; c < C; c++) {
      const mv = meanValues.length > 0 ? meanValues[c]! : 0
      for (let h = 0; h < height; h++) {
        const rowIn = (c * H + hOff + h) * W + wOff
        const rowOut = offset + (c * height + h) * width
        for (let w = 0; w < width; w++) {
          const di = rowIn + w
          const ti = doMirror ? rowOut + (width - 1 - w) : rowOut + w
          const v = bytes !== null ? bytes[di]! : f(floats![di]!)
          const m = mean !== null ? mean.data[di]! : mv
          out[ti] = f(f(v - m) * scale)
        }
      }
    }
    return count
  }

  async close(): Promise<void> {
    if (this.ownsDecoder && this.decoder !== null) await this.decoder.close()
    this.decoder = null
  }
}
