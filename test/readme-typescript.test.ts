import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { mnistWorkspace, repoRoot } from "./support/mnist-workspace.js"

/**
 * The README's TypeScript snippet, run as printed from a folder laid out like the repository's MNIST
 * example (Caffe's prototxts, the MNIST LMDBs), its file in the checkout's .tmp/ so that its imports
 * resolve there. One change, so that it runs in seconds: its `maxIter: 500` becomes 20.
 */
const snippet = (): string => {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## Using it from TypeScript"))
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (code === undefined) throw new Error("README.md: no ```ts block under 'Using it from TypeScript'")
  return code
}

describe("README: Using it from TypeScript", () => {
  it("the snippet runs: Dataset → transform → partitions → Training.distributed, events streamed, a center model written", async () => {
    const code = snippet()
    expect(code).toContain('from "./src/index.js"')
    expect(code).toMatch(/maxIter: 500\b/)
    const dir = await mnistWorkspace()
    const file = path.join(repoRoot, ".tmp", `readme-snippet-${process.pid}.mts`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, code.replace('"./src/index.js"', '"../src/index.js"').replace(/maxIter: 500\b/, "maxIter: 20"))
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(repoRoot, "bin/run-ts.mjs"), file], {
      cwd: dir,
      timeout: 280_000,
      maxBuffer: 64 * 1024 * 1024
    }).finally(() => fs.rmSync(file, { force: true }))
    expect(stdout).toMatch(/^4 exchanges; center model .*lenet_iter_20\.caffemodel$/m)
    // The final test of the center arrives as a TestResult event, logged through Effect.log.
    expect(stdout + stderr).toMatch(/iteration 20: center accuracy 0\.\d+/)
  }, 300_000)
})
