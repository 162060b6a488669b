/**
 * convert_mnist_data: one Datum per MNIST item (channels 1, 28×28, the 784 pixel bytes, label byte),
 * keys `%08d`, committed in batches of 1000 — the 795-byte records Caffe's tool writes.
 */
import { createDatumDb } from "../db/open.js"
import type { Backend } from "../db/datum-db.js"
import { encodeDatum, formatInt } from "../datum.js"
import { readIdxPair } from "../idx.js"

export interface ConvertResult {
  readonly path: string
  readonly count: number
}

export const convertMnist = async (
  imagesFile: string,
  labelsFile: string,
  out: string,
  options: { backend?: Backend } = {}
): Promise<ConvertResult> => {
  const { images, labels } = readIdxPair(imagesFile, labelsFile)
  const size = images.rows * images.cols
  const db = await createDatumDb(out, options.backend ?? "lmdb")
  try {
    for (let i = 0; i < images.count; i++) {
      const value = encodeDatum({
        channels: 1,
        height: images.rows,
        width: images.cols,
        data: images.pixels.subarray(i * size, (i + 1) * size),
        label: labels.labels[i]!
      })
      await db.put(formatInt(i, 8), value)
    }
  } finally {
    await db.close()
  }
  return { path: out, count: images.count }
}
