import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.join(repoRoot, "bin/deepspark.mjs")

describe("bin/deepspark.mjs", () => {
  it("runs inspect as a process: JSON on stdout and exit 0; one line on stderr and exit 1 on a bad file", () => {
    // From the repository root, which holds Caffe's examples/mnist where Caffe's own root does.
    const ok = spawnSync(process.execPath, [bin, "inspect", "-model", "examples/mnist/lenet.prototxt", "--json"], { cwd: repoRoot, encoding: "utf8" })
    expect(ok.stderr).toBe("")
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout).paramCount).toBe(431080)
    // A net whose first layer reads a blob nothing produces.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inspect-spawn-"))
    try {
      fs.writeFileSync(path.join(dir, "bad.prototxt"), 'name: "x"\nlayer {\n  name: "ip"\n  type: "InnerProduct"\n  bottom: "data"\n  top: "ip"\n  inner_product_param { num_output: 2 }\n}\n')
      const bad = spawnSync(process.execPath, [bin, "inspect", "bad.prototxt"], { cwd: dir, encoding: "utf8" })
      expect(bad.status).toBe(1)
      expect(bad.stdout).toBe("")
      expect(bad.stderr).toBe("deepspark inspect: bad.prototxt: layer 'ip': unknown bottom blob 'data' (bottom index 0); no earlier layer produces it\n")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
