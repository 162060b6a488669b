import { spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { captureOutput, type CapturedProcess } from "../../test/support/captured-process.js"
import { tinyDummyNet } from "../../test/support/tiny-dummy-net.js"
import { parseCaffeLog } from "../../test/support/parse-caffe-log.js"
import { readEventLog } from "../observe/event-log.js"

/**
 * `deepspark center -solver S` as a process (bin/deepspark.mjs, which sets the exit code and lets the
 * process end by itself): with test nets it runs an evaluator thread, and the process must exit once the
 * command is over — after a bad --resume, after the first SIGTERM, and after a normal finish.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.join(repoRoot, "bin/deepspark.mjs")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-center-exit-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

fs.writeFileSync(
  path.join(tmp, "net.prototxt"),
  tinyDummyNet
)
fs.writeFileSync(
  path.join(tmp, "solver.prototxt"),
  `net: "net.prototxt"\ntest_iter: 1\ntest_interval: 1000\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 4\ndisplay: 0\nsnapshot_prefix: "tiny"\nrandom_seed: 1\n`
)
fs.writeFileSync(
  path.join(tmp, "display.prototxt"),
  `net: "net.prototxt"\ntest_iter: 1\ntest_interval: 1000\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 6\ndisplay: 2\nsnapshot_prefix: "shown"\nrandom_seed: 1\n`
)
fs.writeFileSync(path.join(tmp, "bad.dsstate"), JSON.stringify({ format: "something-else" }))

const deepspark = (args: ReadonlyArray<string>, onLine?: (line: string) => void): CapturedProcess =>
  captureOutput(spawn(process.execPath, [bin, ...args], { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] }), onLine)

const center = (args: ReadonlyArray<string>, onLine?: (line: string) => void) =>
  deepspark(["center", "-solver", "solver.prototxt", "--backend", "reference", "--listen", "127.0.0.1:0", ...args], onLine)

/** The exit code, or "hung" if the process is still running after `ms` (then it is killed). */
const exitWithin = async (p: CapturedProcess, ms: number): Promise<number | null | "hung"> => {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), ms)))
  const result = await Promise.race([p.exit, hung])
  clearTimeout(timer)
  if (result === "hung") {
    p.child.kill("SIGKILL")
    await p.exit
  }
  return result
}

describe.concurrent("deepspark center exits when its run is over", () => {
  it("after a bad --resume: one error line, exit 1", async () => {
    const p = center(["--resume", "bad.dsstate"])
    expect(await exitWithin(p, 30_000), p.out()).toBe(1)
    expect(p.out()).toContain(`bad.dsstate: format "something-else" is not deepspark-center/1`)
  }, 40_000)

  it("after the first SIGTERM: a final checkpoint, exit 130", async () => {
    let signalled = false
    const p = center(["--checkpoint-prefix", "stopped"], (line) => {
      if (!signalled && /Center listening on/.test(line)) {
        signalled = true
        p.child.kill("SIGTERM")
      }
    })
    expect(await exitWithin(p, 30_000), p.out()).toBe(130)
    expect(signalled).toBe(true)
    expect(p.out()).toContain("Center stopping (interrupted)")
    expect(fs.existsSync(path.join(tmp, "stopped_exchange_0.caffemodel"))).toBe(true)
  }, 40_000)

  it("after its worker finished: the final test, exit 0", async () => {
    let worker: CapturedProcess | undefined
    const p = center(["--workers", "1"], (line) => {
      const m = /Center listening on 127\.0\.0\.1:(\d+)/.exec(line)
      if (m && !worker)
        worker = deepspark(["worker", "-solver", "solver.prototxt", "--backend", "reference", "--connect", `127.0.0.1:${m[1]}`, "--period", "2", "--id", "w0"])
    })
    expect(await exitWithin(p, 50_000), p.out()).toBe(0)
    expect(p.out()).toContain("Center stopping (workers-finished) after 2 exchanges")
    expect(p.out()).toMatch(/Test net output #0: loss = /)
    expect(await exitWithin(worker!, 20_000), worker!.out()).toBe(0)
  }, 70_000)

  it("with --event-log and --plot (fresh files, the plot drawn from the start) and a worker's --log-file that parse_log.py reads", async () => {
    fs.writeFileSync(path.join(tmp, "events.jsonl"), "an older run's events\n")
    let worker: CapturedProcess | undefined
    const p = deepspark(
      ["center", "-solver", "display.prototxt", "--backend", "reference", "--listen", "127.0.0.1:0", "--workers", "1", "--event-log", "events.jsonl", "--plot", "progress.svg"],
      (line) => {
        const m = /Center listening on 127\.0\.0\.1:(\d+)/.exec(line)
        if (m && !worker)
          worker = deepspark(["worker", "-solver", "display.prototxt", "--backend", "reference", "--connect", `127.0.0.1:${m[1]}`, "--period", "2", "--id", "w0", "--log-file", "logs/w0.log"])
      }
    )
    expect(await exitWithin(p, 50_000), p.out()).toBe(0)
    expect(await exitWithin(worker!, 20_000), worker!.out()).toBe(0)
    expect(p.out()).toContain(`Writing the event log to ${path.join(tmp, "events.jsonl")} (a fresh file for this run)`)
    const events = readEventLog(path.join(tmp, "events.jsonl"))
    expect(events[0]?.type).toBe("started")
    expect(events.filter((e) => e.type === "exchange")).toHaveLength(3)
    expect(events.some((e) => e.type === "test")).toBe(true)
    expect(fs.readFileSync(path.join(tmp, "progress.svg"), "utf8")).toContain("<svg")
    const rows = parseCaffeLog(fs.readFileSync(path.join(tmp, "logs/w0.log"), "utf8")).train
    expect(rows.map((r) => r.NumIters)).toEqual([0, 2, 4])
    expect(rows.every((r) => Number.isFinite(r["loss"]) && r.LearningRate === 0.01)).toBe(true)
  }, 70_000)
})
