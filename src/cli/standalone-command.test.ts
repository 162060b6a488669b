import { describe, expect, it } from "vitest"
import type { CliIo } from "./command.js"
import { centerCommand } from "./center.js"
import { runCli } from "./run-cli.js"
import { runnerCommand } from "./runner.js"
import { workerCommand } from "./worker.js"

const capture = () => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }
  return { io, out, err }
}

/** The network commands report their own mistakes (they also run without the dispatcher). */
describe("commands that report their own errors", () => {
  it("a usage error names the command and the flag as written, then the usage line; exit 2", async () => {
    const c = capture()
    expect(await centerCommand(["--synthetic", "3", "-bogus=1"], c.io)).toBe(2)
    expect(c.err.join("\n")).toMatch(/^deepspark center: unknown option -bogus\nusage: deepspark center -solver S/)
    const w = capture()
    expect(await workerCommand(["-connect"], w.io)).toBe(2)
    expect(w.err.join("\n")).toMatch(/^deepspark worker: -connect needs a value \(HOST:PORT\)\nusage: deepspark worker/)
    const n = capture()
    expect(await centerCommand(["--synthetic", "3", "--workers", "0"], n.io)).toBe(2)
    expect(n.err.join("\n")).toMatch(/^deepspark center: --workers takes an integer ≥ 1, got '0'/)
    const r = capture()
    expect(await runnerCommand(["stray"], r.io)).toBe(2)
    expect(r.err.join("\n")).toMatch(/^deepspark runner: unexpected argument 'stray'/)
  })

  it("--help lists every flag; `deepspark help worker` is the same", async () => {
    const c = capture()
    expect(await runnerCommand(["--help"], c.io)).toBe(0)
    expect(c.out.join("\n")).toMatch(/^usage: deepspark runner --cluster-db URL[\s\S]*--lock-expiration SECONDS +shard-lock expiry/)
    const w = capture()
    expect(await runCli(["help", "worker"], w.io)).toBe(0)
    for (const flag of ["--connect HOST:PORT", "--partition i/N", "--stage-from HOST:PORT", "--adaptive-period", "--help"]) expect(w.out.join("\n")).toContain(flag)
  })
})
