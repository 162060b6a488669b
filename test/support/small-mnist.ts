import { createLmdb, Dataset, encodeDatum } from "@deepspark/data"
import * as fs from "node:fs"
import * as path from "node:path"
import { repoRoot } from "./mnist-workspace.js"

/**
 * A small Caffe MNIST folder for multi-process tests that must start fast: Caffe's LeNet prototxts
 * (examples/mnist, verbatim) and, when `trainRecords` is given, an LMDB of the first records of the
 * MNIST training set where the net expects it (examples/mnist/mnist_train_lmdb, keys %08d as
 * convert_mnist_data writes them). No test database: give solvers without test nets.
 */
export const smallMnistFolder = async (dir: string, options: { readonly trainRecords?: number } = {}): Promise<string> => {
  const mnist = path.join(dir, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt"]) fs.copyFileSync(path.join(repoRoot, "examples/mnist", f), path.join(mnist, f))
  if (options.trainRecords !== undefined) {
    const all = Dataset.mnist("train")
    const db = createLmdb(path.join(mnist, "mnist_train_lmdb"))
    try {
      for (let i = 0; i < options.trainRecords; i++) db.putSync(all.keyAt(i), encodeDatum(all.at(i)))
    } finally {
      await db.close()
    }
  }
  return dir
}

/** Caffe's LeNet solver with `max_iter` iterations and no test net (the center need not test). */
export const writeTrainOnlyLenetSolver = (dir: string, name: string, maxIter: number): string => {
  const rel = `examples/mnist/${name}`
  fs.writeFileSync(
    path.join(dir, rel),
    [
      'net: "examples/mnist/lenet_train_test.prototxt"',
      "base_lr: 0.01",
      "momentum: 0.9",
      "weight_decay: 0.0005",
      'lr_policy: "inv"',
      "gamma: 0.0001",
      "power: 0.75",
      "display: 0",
      `max_iter: ${maxIter}`,
      `snapshot_prefix: "examples/mnist/${name.replace(/\.prototxt$/, "")}"`,
      "random_seed: 1",
      "solver_mode: CPU",
      ""
    ].join("\n")
  )
  return rel
}
