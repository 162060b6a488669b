import { execFile } from "node:child_process"
import * as path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"

/**
 * Smoke tests of the pipeline examples: each runs to completion with small settings and prints what it
 * promises. They run concurrently (most of their time is starting worker threads).
 */
const run = async (script: string, args: string[] = []) => {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(repoRoot, "bin/run-ts.mjs"), path.join(repoRoot, script), ...args], {
    cwd: repoRoot,
    timeout: 280_000,
    maxBuffer: 64 * 1024 * 1024
  })
  return stdout
}

describe.concurrent("pipeline examples", () => {
  it("custom-data-source.ts trains 2 workers on a generated record source and the loss falls", async () => {
    const out = await run("examples/custom-data-source.ts", ["--iterations", "60", "--records", "900"])
    expect(out).toMatch(/trained 2 workers on 900 generated records: 12 exchanges/)
    const [, first, last] = /training loss: first exchanges ([\d.]+), last exchanges ([\d.]+)/.exec(out) ?? []
    expect(Number(last)).toBeLessThan(Number(first))
  }, 300_000)

  it("pipeline-transform.ts trains Caffe's LeNet on binarised MNIST partitions and tests the center", async () => {
    const out = await run("examples/pipeline-transform.ts", ["--iterations", "30", "--records", "2000", "--test-iter", "5"])
    expect(out).toMatch(/LeNet on 2000 binarised MNIST records, 2 partitions: 6 exchanges/)
    expect(Number(/center test accuracy ([\d.]+)/.exec(out)?.[1])).toBeGreaterThan(0.3)
  }, 300_000)

  it("event-stream.ts reads run.events with three consumers at once", async () => {
    const out = await run("examples/event-stream.ts", ["--iterations", "30"])
    expect(out).toMatch(/^started: 2 workers, async-easgd$/m)
    expect(out).toMatch(/^worker0 joined$/m)
    expect(out).toMatch(/^done: 6 exchanges in/m)
    expect(out).toMatch(/exchanges per worker: (worker[01] 3, worker[01] 3); lowest training loss/)
  }, 300_000)

  it("http-service.ts starts a run through its HTTP API and follows it to the end", async () => {
    const out = await run("examples/http-service.ts", ["--self-test"])
    expect(out).toMatch(/^serving on http:\/\/127\.0\.0\.1:\d+/m)
    expect(out).toMatch(/^run 1 done: 10 exchanges, last loss [\d.]+$/m)
  }, 300_000)
})
