import { spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { readSolverStateSync } from "@deepspark/caffe"
import { afterAll, describe, expect, it } from "vitest"
import { tinyDummyNet } from "../../test/support/tiny-dummy-net.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, "../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-sigint-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("deepspark train and SIGINT (Caffe's default -sigint_effect stop)", () => {
  it("stops after the current iteration, snapshots, and exits 0", async () => {
    fs.writeFileSync(
      path.join(tmp, "tiny.prototxt"),
      tinyDummyNet
    )
    fs.writeFileSync(
      path.join(tmp, "solver.prototxt"),
      `net: "tiny.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 100000000\ndisplay: 100\nsnapshot_prefix: "tiny"\nrandom_seed: 1\n`
    )
    // The commands run through the dispatcher's runCli with this side's command table.
    const entry = path.join(tmp, "entry.mts")
    fs.writeFileSync(
      entry,
      `import { runCli } from ${JSON.stringify(pathToFileURL(path.join(here, "run-cli.ts")).href)}
import { processIo } from ${JSON.stringify(pathToFileURL(path.join(here, "command.ts")).href)}
import { solverCommands } from ${JSON.stringify(pathToFileURL(path.join(here, "solver-commands.ts")).href)}
process.exitCode = await runCli(process.argv.slice(2), processIo, solverCommands)
`
    )
    const child = spawn(process.execPath, [path.join(repoRoot, "bin/run-ts.mjs"), entry, "train", "-solver", "solver.prototxt", "-backend", "reference"], {
      cwd: tmp,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    let signalled = false
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
      if (!signalled && /\] Iteration 200 \(/.test(stderr)) {
        signalled = true
        child.kill("SIGINT")
      }
    })
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
    expect(signalled).toBe(true)
    expect(code).toBe(0)
    const lines = stderr.trim().split("\n").map((l) => l.replace(/^[IWEF]\d{4} \S+ \d+ \S+\] /, ""))
    const snap = lines.find((l) => l.startsWith("Snapshotting to binary proto file "))
    expect(snap).toMatch(/^Snapshotting to binary proto file tiny_iter_(\d+)\.caffemodel$/)
    const iter = Number(/_iter_(\d+)\./.exec(snap!)![1])
    expect(iter).toBeGreaterThan(200)
    expect(lines.slice(-2)).toEqual(["Optimization stopped early.", "Optimization Done."])
    expect(readSolverStateSync(path.join(tmp, `tiny_iter_${iter}.solverstate`)).iter).toBe(iter)
    expect(fs.readdirSync(tmp).filter((f) => f.includes("_iter_")).sort()).toEqual([`tiny_iter_${iter}.caffemodel`, `tiny_iter_${iter}.solverstate`])
  }, 60_000)
})
