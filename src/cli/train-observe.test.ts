import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { readEventLog } from "../observe/event-log.js"
import type { CliIo } from "./command.js"
import { runCli } from "./run-cli.js"
import { solverCommands } from "./solver-commands.js"
import { tinyDummyNet } from "../../test/support/tiny-dummy-net.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-cli-observe-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A tiny regression net with a TEST-phase copy: random x (4×3), constant targets y (4×2). */
fs.writeFileSync(
  path.join(tmp, "tiny.prototxt"),
  tinyDummyNet
)
const solver = (maxIter: number) =>
  `net: "tiny.prototxt"\nbase_lr: 0.05\nlr_policy: "fixed"\nmax_iter: ${maxIter}\ndisplay: 2\ntest_iter: 1\ntest_interval: 4\nrandom_seed: 3\n`
fs.writeFileSync(path.join(tmp, "solver8.prototxt"), solver(8))
fs.writeFileSync(path.join(tmp, "solver4.prototxt"), solver(4))

const run = async (...argv: string[]) => {
  const err: string[] = []
  const io: CliIo = { stdout: () => {}, stderr: (t) => void err.push(t), cwd: tmp }
  const code = await runCli(argv, io, solverCommands)
  return { code, messages: err.map((l) => l.replace(/^[IWEF]\d{4} \S+ \d+ \S+\] /, "")) }
}

describe("deepspark train --event-log / --plot on a single solver", () => {
  it("trains the one solver (no workers, no EASGD), logs its losses and tests as events and plots them; a second run replaces both files", async () => {
    const first = await run("train", "-solver", "solver8.prototxt", "-backend", "reference", "--event-log", "out/events.jsonl", "--plot", "out/progress.svg")
    expect(first.code).toBe(0)
    expect(first.messages.some((m) => /workers|EASGD|easgd|center/i.test(m))).toBe(false)
    expect(first.messages).toContain(`Writing the event log to ${path.join(tmp, "out/events.jsonl")} (a fresh file for this run)`)
    const events = readEventLog(path.join(tmp, "out/events.jsonl"))
    expect(events.filter((e) => e.type === "train").map((e) => e.iteration)).toEqual([0, 2, 4, 6, 8])
    expect(events.filter((e) => e.type === "test").map((e) => e.iteration)).toEqual([0, 4, 8])
    expect(events.find((e) => e.type === "test")?.loss).toEqual(expect.any(Number))
    expect(events.at(-1)?.type).toBe("done")
    expect(fs.readFileSync(path.join(tmp, "out/progress.svg"), "utf8")).toContain("<polyline")

    const second = await run("train", "-solver", "solver4.prototxt", "-backend", "reference", "--event-log", "out/events.jsonl")
    expect(second.code).toBe(0)
    const again = readEventLog(path.join(tmp, "out/events.jsonl"))
    expect(again.filter((e) => e.type === "started")).toHaveLength(1)
    expect(again.filter((e) => e.type === "train").map((e) => e.iteration)).toEqual([0, 2, 4])
  })

  it("--plot works without --event-log", async () => {
    const r = await run("train", "-solver", "solver4.prototxt", "-backend", "reference", "--plot", "only/plot.svg")
    expect(r.code).toBe(0)
    expect(fs.existsSync(path.join(tmp, "only/plot.svg"))).toBe(true)
    expect(fs.readdirSync(path.join(tmp, "only"))).toEqual(["plot.svg"])
  })
})
