import { spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { captureOutput } from "../../test/support/captured-process.js"

/**
 * A configuration error ends `deepspark worker` at once with exit 3 and one line, instead of restarting
 * its trainer with backoff and a stack trace each time: a solver file that is not there (found before
 * any trainer process starts) and one that does not parse (found by the trainer process).
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-worker-config-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const worker = (solver: string) =>
  captureOutput(
    spawn(
      process.execPath,
      [path.join(repoRoot, "bin/run-ts.mjs"), path.join(repoRoot, "src/cli/remote-main.ts"), "worker", "--connect", "127.0.0.1:1", "-solver", solver, "--backoff-ms", "50", "--max-restarts", "2"],
      { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] }
    )
  )

describe.concurrent("deepspark worker: configuration errors", () => {
  it("a missing solver file: exit 3, one line, no trainer process", async () => {
    const p = worker("missing_solver.prototxt")
    expect(await p.exit, p.out()).toBe(3)
    expect(p.out()).toContain("solver missing_solver.prototxt: no such readable file")
    expect(p.out()).not.toContain("trainer process")
    expect(p.out()).not.toMatch(/^\s+at /m)
  }, 30_000)

  it("a solver that does not parse: exit 3 after one trainer process, no stack trace", async () => {
    fs.writeFileSync(path.join(tmp, "bad_solver.prototxt"), "net: \"x.prototxt\"\nbase_lr: oops\n")
    const p = worker("bad_solver.prototxt")
    expect(await p.exit, p.out()).toBe(3)
    expect(p.out().match(/trainer process \d+ started/g)).toHaveLength(1)
    expect(p.out()).toMatch(/bad_solver\.prototxt:2/)
    expect(p.out()).not.toMatch(/^\s+at /m)
    expect(p.out()).toContain("stopped for good")
  }, 60_000)
})
