import { execFile } from "node:child_process"
import * as path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"

/** Smoke tests: every example script runs to completion with small settings and prints its result. */
const run = async (script: string, args: string[] = []) => {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(repoRoot, "bin/run-ts.mjs"), path.join(repoRoot, script), ...args], {
    cwd: repoRoot,
    timeout: 240_000,
    maxBuffer: 64 * 1024 * 1024
  })
  return stdout
}

describe("examples", () => {
  it("simulator.ts prints a time-to-accuracy table", async () => {
    const out = await run("examples/simulator.ts", ["--workers", "1,4", "--iterations", "80"])
    expect(out).toMatch(/workers\s+rule/)
    expect(out).toMatch(/^4\s+async-easgd\s+0\.\d{4}/m)
  }, 60_000)

  it("embed-in-effect.ts trains through the Center service provided as a Layer", async () => {
    const out = await run("examples/embed-in-effect.ts")
    const before = Number(/accuracy before: ([\d.]+)/.exec(out)?.[1])
    const after = Number(/accuracy after: +([\d.]+)/.exec(out)?.[1])
    expect(after).toBeGreaterThan(before + 0.3)
  }, 60_000)

  it("local-training.ts trains LeNet with 2 worker threads and writes a caffemodel", async () => {
    const out = await run("examples/local-training.ts", ["--iterations", "20"])
    expect(out).toMatch(/center accuracy 0\.\d{4} after 4 exchanges; model examples\/mnist\/lenet_iter_20\.caffemodel/)
  }, 240_000)
})
