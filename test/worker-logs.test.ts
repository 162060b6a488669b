import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { CliIo } from "../src/cli/command.js"
import { runCli } from "../src/cli/run-cli.js"
import { solverCommands } from "../src/cli/solver-commands.js"
import { parseCaffeLog } from "./support/parse-caffe-log.js"
import { tinyDummyNet } from "./support/tiny-dummy-net.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-worker-logs-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
fs.writeFileSync(path.join(tmp, "tiny.prototxt"), tinyDummyNet)
const solver = (maxIter: number) =>
  `net: "tiny.prototxt"\nbase_lr: 0.05\nlr_policy: "fixed"\nmax_iter: ${maxIter}\ndisplay: 5\nsnapshot_prefix: "snap/tiny"\nrandom_seed: 3\n`
fs.writeFileSync(path.join(tmp, "solver40.prototxt"), solver(40))
fs.writeFileSync(path.join(tmp, "solver20.prototxt"), solver(20))

const train = async (...argv: string[]) => {
  const err: string[] = []
  const io: CliIo = { stdout: () => {}, stderr: (t) => void err.push(t), cwd: tmp }
  const code = await runCli(["train", "-backend", "reference", "--workers", "2", "--period", "4", ...argv], io, solverCommands)
  return { code, stderr: err }
}

describe("deepspark train --workers: each worker's Caffe log in its own file", () => {
  it("writes <snapshot prefix>.worker<i>.log that parse_log.py reads as one training curve per worker; the center's log stays on stderr; a second run starts the files anew", async () => {
    const first = await train("-solver", "solver40.prototxt")
    expect(first.code).toBe(0)
    const files = [0, 1].map((i) => path.join(tmp, `snap/tiny.worker${i}.log`))
    expect(first.stderr.some((l) => l.includes(`Each worker's Caffe log: ${files[0]} … ${files[1]}`))).toBe(true)
    // The center's stream carries no worker's iteration lines.
    expect(first.stderr.filter((l) => /\] Iteration \d+ \(.* iter\/s/.test(l))).toEqual([])
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8")
      const { train: rows, test } = parseCaffeLog(text)
      // display 5, iterations 0 … 39 of this worker, in order: its own curve, not two interleaved.
      expect(rows.map((r) => r.NumIters)).toEqual([0, 5, 10, 15, 20, 25, 30, 35])
      expect(rows.every((r) => Number.isFinite(r["loss"]) && r.LearningRate === 0.05)).toBe(true)
      expect(rows.every((r, i) => i === 0 || r.Seconds >= rows[i - 1]!.Seconds)).toBe(true)
      expect(test).toEqual([])
      // Caffe's display line, with a real rate: the iterations between displays span the exchanges.
      const rates = [...text.matchAll(/\] Iteration (\d+) \(([\d.e+-]+) iter\/s, [\d.e+-]+s\/5 iters\), loss = [\d.e+-]+$/gm)]
      expect(rates.map((m) => Number(m[1]))).toEqual([0, 5, 10, 15, 20, 25, 30, 35])
      expect(rates.slice(1).every((m) => Number(m[2]) > 0)).toBe(true)
    }

    const second = await train("-solver", "solver20.prototxt")
    expect(second.code).toBe(0)
    for (const file of files) expect(parseCaffeLog(fs.readFileSync(file, "utf8")).train.map((r) => r.NumIters)).toEqual([0, 5, 10, 15])
  }, 120_000)

  it("--log-dir puts them in DIR; on a single solver (its log is stderr) it is refused", async () => {
    const r = await train("-solver", "solver20.prototxt", "--log-dir", "logs")
    expect(r.code).toBe(0)
    expect(fs.readdirSync(path.join(tmp, "logs")).sort()).toEqual(["tiny.worker0.log", "tiny.worker1.log"])
    const err: string[] = []
    const single = await runCli(["train", "-solver", "solver20.prototxt", "--log-dir", "logs"], { stdout: () => {}, stderr: (t) => void err.push(t), cwd: tmp }, solverCommands)
    expect(single).not.toBe(0)
    expect(err.join("\n")).toContain("--log-dir")
  }, 120_000)
})
