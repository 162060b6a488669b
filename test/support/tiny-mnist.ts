import { readSolverPrototxtSync } from "@deepspark/caffe"
import { createLmdb, Dataset, encodeDatum } from "@deepspark/data"
import { chooseBackend, createTrainingSession, loadWeights, silentLogger } from "@deepspark/engine"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/**
 * A Caffe folder for fast end-to-end runs on real MNIST: the first `trainRecords` training images and
 * the first `testRecords` test images as Caffe LMDBs (keys as convert_mnist_data writes them), and a
 * reduced LeNet (one 8-filter convolution, pooling, a 64-unit ReLU layer, softmax) with Caffe's LeNet
 * data layers — about a tenth of LeNet's compute, so a run of a few hundred iterations per worker takes
 * seconds. `solver(name, changes)` writes a solver for it (Caffe's LeNet solver values by default).
 */
export interface TinyMnist {
  readonly dir: string
  readonly testRecords: number
  /** Writes a solver; without test nets (`test: false`) a distributed run starts no evaluator thread. */
  solver(name: string, changes?: Readonly<Record<string, string | number>>, options?: { readonly test?: boolean }): string
  /** Caffe's test of a snapshot on the test LMDB, in this thread: { accuracy, loss }. */
  test(caffemodel: string): Promise<{ readonly accuracy: number; readonly loss: number }>
}

const net = (testBatch: number) => `name: "TinyLeNet"
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { scale: 0.00390625 } data_param { source: "mnist_train_lmdb" batch_size: 64 backend: LMDB } }
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { scale: 0.00390625 } data_param { source: "mnist_test_lmdb" batch_size: ${testBatch} backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 8 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1" param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 64 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
`

const writeLmdb = async (file: string, set: "train" | "test", records: number) => {
  const all = Dataset.mnist(set)
  const db = createLmdb(file)
  try {
    for (let i = 0; i < records; i++) db.putSync(all.keyAt(i), encodeDatum(all.at(i)))
  } finally {
    await db.close()
  }
}

export const tinyMnist = async (options: { readonly trainRecords: number; readonly testRecords: number }): Promise<TinyMnist> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-tiny-mnist-"))
  const testBatch = 100
  if (options.testRecords % testBatch !== 0) throw new RangeError(`testRecords must be a multiple of ${testBatch}`)
  await writeLmdb(path.join(dir, "mnist_train_lmdb"), "train", options.trainRecords)
  await writeLmdb(path.join(dir, "mnist_test_lmdb"), "test", options.testRecords)
  fs.writeFileSync(path.join(dir, "tiny_lenet.prototxt"), net(testBatch))
  const solver: TinyMnist["solver"] = (name, changes = {}, { test = true } = {}) => {
      const fields: Record<string, string | number> = {
        net: "tiny_lenet.prototxt",
        ...(test ? { test_iter: options.testRecords / testBatch, test_interval: 100000, test_initialization: "false" } : {}),
        base_lr: 0.01,
        momentum: 0.9,
        weight_decay: 0.0005,
        lr_policy: "inv",
        gamma: 0.0001,
        power: 0.75,
        display: 0,
        max_iter: 100,
        snapshot: 0,
        snapshot_prefix: name.replace(/\.prototxt$/, ""),
        random_seed: 1,
        solver_mode: "CPU",
        ...changes
      }
      const quoted = new Set(["net", "lr_policy", "snapshot_prefix"])
      const text = Object.entries(fields)
        .map(([k, v]) => (k === "solver_mode" || k === "test_initialization" ? `${k}: ${v}` : `${k}: ${quoted.has(k) ? JSON.stringify(v) : v}`))
        .join("\n")
      fs.writeFileSync(path.join(dir, name), `${text}\n`)
      return name
  }
  return {
    dir,
    testRecords: options.testRecords,
    solver,
    async test(caffemodel) {
      const solverParam = readSolverPrototxtSync(path.join(dir, solver("tiny_test_solver.prototxt")))
      const backend = await chooseBackend(undefined, silentLogger)
      const session = await createTrainingSession({ solverParam, cwd: dir, backend, log: silentLogger })
      try {
        loadWeights(session, [caffemodel], silentLogger, dir)
        session.solver.test(0)
        const [accuracy, loss] = session.solver.meanScores[0]!
        return { accuracy: accuracy!, loss: loss! }
      } finally {
        await session.close()
      }
    }
  }
}
