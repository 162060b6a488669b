import { spawn } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"

/**
 * `deepspark center --workers N`: a named rule gets its defaults for N workers, as `deepspark train
 * --workers N` gives them; with no rule named the center's rule is downpour whatever N (train's sync-sgd
 * scales the lr, which `deepspark worker` processes run as their solver gives it). Its listening line
 * says the rule and the settings it reads.
 */
const listeningLine = (args: ReadonlyArray<string>): Promise<string> => {
  const child = spawn(process.execPath, [path.join(repoRoot, "bin/deepspark.mjs"), "center", "--synthetic", "1", "--listen", "127.0.0.1:0", ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  return new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const m = /Center listening on [^\n]*/.exec(output)
      if (m) resolve(m[0])
    }
    child.stdout!.on("data", read)
    child.stderr!.on("data", read)
    child.on("exit", (code) => reject(new Error(`center exited (${code}):\n${output}`)))
  }).finally(() => {
    child.kill("SIGINT")
  })
}

describe.concurrent("deepspark center's rule and its settings for the planned workers", () => {
  it("async-diloco with 8 workers: outer momentum 0.5", async () => {
    expect(await listeningLine(["--workers", "8", "--rule", "async-diloco"])).toMatch(
      /rule async-diloco \(period 50, outer_lr 0\.35, outer_momentum 0\.5, overlap_exchange false\), 8 worker\(s\)/
    )
  }, 30_000)
  it("async-diloco with 2 workers: outer momentum 0.9", async () => {
    expect(await listeningLine(["--workers", "2", "--rule", "async-diloco"])).toMatch(/rule async-diloco \(period 50, outer_lr 0\.35, outer_momentum 0\.9, /)
  }, 30_000)
  it("no rule named, 4 workers: downpour with its own settings", async () => {
    expect(await listeningLine(["--workers", "4"])).toMatch(/rule downpour \(period 5, staleness_aware false, progress_warmup 300, progress_gain 2, overlap_exchange false\), 4 worker\(s\)/)
  }, 30_000)
})
