import { spawn } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { captureOutput, type CapturedProcess } from "../../test/support/captured-process.js"

/**
 * Elastic workers as an operator runs them, over loopback: `deepspark center --elastic --workers 2`,
 * two `deepspark worker` processes, a third that joins mid-run with `--join`, and one of the first two
 * leaving for good on SIGTERM with `--leave`. The run finishes, every process exits 0, and the center's
 * log shows the joiner's records and the leaver's departure.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.join(repoRoot, "bin/deepspark.mjs")
const spawned: CapturedProcess[] = []
afterAll(() => {
  for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL")
})

const deepspark = (args: ReadonlyArray<string>, onLine?: (line: string) => void): CapturedProcess => {
  const p = captureOutput(spawn(process.execPath, [bin, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }), onLine)
  spawned.push(p)
  return p
}

const worker = (port: string, id: string, extra: ReadonlyArray<string>, onLine?: (line: string) => void) =>
  deepspark(
    ["worker", "--synthetic", "3", "--synthetic-iteration-ms", "15", "--max-iter", "240", "--period", "5", "--connect", `127.0.0.1:${port}`, "--token", "tok", "--id", id, ...extra],
    onLine
  )

describe("elastic workers: deepspark center --elastic with deepspark worker processes", () => {
  it("a worker joins with --join and another leaves on SIGTERM with --leave; the run finishes", async () => {
    const workers: Record<string, CapturedProcess> = {}
    let port: string | undefined
    let joined = false
    let leaving = false
    const center = deepspark(
      ["center", "--synthetic", "3", "--elastic", "--workers", "2", "--listen", "127.0.0.1:0", "--token", "tok", "--display", "1", "--period", "5", "--moving-rate", "0.3"],
      (line) => {
        const listening = /Center listening on 127\.0\.0\.1:(\d+)/.exec(line)
        if (listening && port === undefined) {
          port = listening[1]!
          workers.w0 = worker(port, "w0", ["--partition", "0/2"])
          workers.w1 = worker(port, "w1", ["--partition", "1/2", "--leave"])
        }
        // Once training is under way, a third worker joins.
        if (/^.*Exchange 4:/.test(line) && !joined) {
          joined = true
          workers.w2 = worker(port!, "w2", ["--join"])
        }
        // Once the joiner has its records, w1 leaves for good.
        if (/Worker w2 reads records .*\((join|split)\)/.test(line) && !leaving) {
          leaving = true
          workers.w1!.child.kill("SIGTERM")
        }
      }
    )
    const code = await center.exit
    const out = center.out()
    expect(code, out).toBe(0)
    expect(joined && leaving, out).toBe(true)
    const codes = await Promise.all(["w0", "w1", "w2"].map((id) => workers[id]!.exit))
    expect(codes, ["w0", "w1", "w2"].map((id) => workers[id]!.out()).join("\n----\n")).toEqual([0, 0, 0])
    expect(out).toMatch(/Worker w0 reads records \[0, 2048\) of epoch 0 \(register\)/)
    expect(out).toMatch(/Worker w2 reads records \[\d+, \d+\) of epoch \d+ \((join|split)\)/)
    expect(out).toMatch(/Worker w1 left the job: left the job at iteration \d+/)
    expect(workers.w1!.out()).toMatch(/leaving the job after the current exchange/)
    expect(workers.w1!.out()).toMatch(/left the job at iteration \d+/)
    expect(workers.w2!.out()).toMatch(/registered as incarnation 1, starting, reading records/)
    expect(out).toContain("Center stopping (workers-finished)")
  }, 120_000)
})
