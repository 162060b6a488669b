/**
 * compute_image_mean: the float32 per-element mean of every Datum in a database (raw bytes, float_data,
 * or encoded images decoded with their native channels), accumulated in float32 in key order and divided
 * by the count as Caffe does, saved as a legacy 4-D BlobProto (num = 1, channels, height, width, data).
 */
import { encode, writeFileAtomicSync } from "@deepspark/caffe"
import type { BlobProto } from "@deepspark/caffe"
import type { Backend } from "../db/datum-db.js"
import { keyText } from "../db/datum-db.js"
import { openDatumDb } from "../db/open.js"
import { decodeRecord } from "../datum.js"
import { RecordError } from "../errors.js"
import { decodeImage } from "../image/decode-image.js"

export interface MeanImage {
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly data: Float32Array
  readonly count: number
}

export const computeMean = async (dbPath: string, options: { backend?: Backend } = {}): Promise<MeanImage> => {
  const db = await openDatumDb(dbPath, options.backend ?? "lmdb")
  try {
    let sum: Float32Array | null = null
    let shape = { channels: 0, height: 0, width: 0 }
    let count = 0
    for (const rec of db.range()) {
      let datum = decodeRecord(dbPath, rec.key, rec.value)
      if (datum.encoded) {
        const img = await decodeImage(datum.data ?? new Uint8Array(0), `${dbPath} record "${keyText(rec.key)}"`, { mode: "native" })
        datum = { channels: img.channels, height: img.height, width: img.width, data: img.data, label: datum.label ?? 0 }
      }
      const bytes = datum.data ?? new Uint8Array(0)
      const floats = datum.float_data ?? []
      const size = Math.max(bytes.length, floats.length)
      if (sum === null) {
        shape = { channels: datum.channels ?? 0, height: datum.height ?? 0, width: datum.width ?? 0 }
        sum = new Float32Array(size)
      }
      if (size !== sum.length) {
        throw new RecordError({
          source: dbPath,
          key: keyText(rec.key),
          message: `${dbPath}: record "${keyText(rec.key)}" has ${size} values, expected ${sum.length} (${shape.channels}x${shape.height}x${shape.width}) like the first record`
        })
      }
      // Float32Array stores round every partial sum to float32, like Caffe's float accumulator.
      if (bytes.length > 0) for (let i = 0; i < size; i++) sum[i] = sum[i]! + bytes[i]!
      else for (let i = 0; i < size; i++) sum[i] = sum[i]! + floats[i]!
      count++
    }
    if (sum === null) throw new RecordError({ source: dbPath, key: "", message: `${dbPath}: the database is empty (expected records to average)` })
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! / count
    return { ...shape, data: sum, count }
  } finally {
    await db.close()
  }
}

/** The mean as Caffe writes it: legacy num/channels/height/width, then data (no `shape`). */
export const meanBlobProto = (mean: MeanImage): BlobProto => ({
  num: 1,
  channels: mean.channels,
  height: mean.height,
  width: mean.width,
  data: mean.data
})

export const computeMeanFile = async (dbPath: string, out: string, options: { backend?: Backend } = {}): Promise<MeanImage> => {
  const mean = await computeMean(dbPath, options)
  writeFileAtomicSync(out, encode("BlobProto", meanBlobProto(mean)))
  return mean
}
