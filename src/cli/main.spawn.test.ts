import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const corpus = path.resolve(repoRoot, "../shared/caffe")
const bin = path.join(repoRoot, "bin/deepspark.mjs")

describe("bin/deepspark.mjs", () => {
  it("runs inspect as a process: JSON on stdout and exit 0; one line on stderr and exit 1 on a bad file", () => {
    const ok = spawnSync(process.execPath, [bin, "inspect", "-model", "examples/mnist/lenet.prototxt", "--json"], { cwd: corpus, encoding: "utf8" })
    expect(ok.stderr).toBe("")
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout).paramCount).toBe(431080)
    // (linreg.prototxt's Python layer is only a warning now; an explicit phase without its data layer fails.)
    const bad = spawnSync(process.execPath, [bin, "inspect", "examples/mnist/mnist_autoencoder.prototxt", "-phase", "TEST"], { cwd: corpus, encoding: "utf8" })
    expect(bad.status).toBe(1)
    expect(bad.stdout).toBe("")
    expect(bad.stderr).toBe(
      "deepspark inspect: examples/mnist/mnist_autoencoder.prototxt: layer 'flatdata': unknown bottom blob 'data' (bottom index 0); no earlier layer produces it (layer 'data' producing it is excluded in phase TEST, level 0, stages none)\n"
    )
  })
})
