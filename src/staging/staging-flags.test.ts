import { describe, expect, it } from "vitest"
import { centerCommand } from "../cli/center.js"
import { workerCommand } from "../cli/worker.js"

/** The staging flags of `deepspark center` / `deepspark worker`: mistakes are usage errors (exit 2). */
const run = async (command: typeof centerCommand, argv: ReadonlyArray<string>) => {
  const lines: string[] = []
  const saved = process.env.DEEPSPARK_TOKEN
  delete process.env.DEEPSPARK_TOKEN
  try {
    const code = await command(argv, { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l) })
    return { code, text: lines.join("\n") }
  } finally {
    if (saved !== undefined) process.env.DEEPSPARK_TOKEN = saved
  }
}

describe("--serve-data / --stage-from / --stage-to", () => {
  it("center: serving data beyond loopback needs a token; the address is HOST:PORT", async () => {
    const open = await run(centerCommand, ["--synthetic", "3", "--listen", "127.0.0.1:0", "--serve-data", "0.0.0.0:7078"])
    expect(open.code).toBe(2)
    expect(open.text).toMatch(/refusing to serve data on 0\.0\.0\.0 without a token: give --token T or set DEEPSPARK_TOKEN/)
    const bad = await run(centerCommand, ["--synthetic", "3", "--serve-data", "7078"])
    expect(bad.code).toBe(2)
    expect(bad.text).toMatch(/-serve-data expects HOST:PORT, got "7078"/)
  })

  it("worker: --stage-from and --stage-to go together, need a Caffe solver, and take HOST:PORT", async () => {
    const base = ["--connect", "127.0.0.1:1", "-solver", "s.prototxt"]
    const alone = await run(workerCommand, [...base, "--stage-from", "127.0.0.1:2"])
    expect(alone.code).toBe(2)
    expect(alone.text).toMatch(/--stage-from HOST:PORT and --stage-to DIR go together/)
    expect((await run(workerCommand, [...base, "--stage-to", "staged"])).code).toBe(2)
    const synthetic = await run(workerCommand, ["--connect", "127.0.0.1:1", "--synthetic", "3", "--max-iter", "5", "--stage-from", "127.0.0.1:2", "--stage-to", "d"])
    expect(synthetic.code).toBe(2)
    expect(synthetic.text).toMatch(/--stage-from stages a Caffe net's training data: give -solver S, not --synthetic/)
    const bad = await run(workerCommand, [...base, "--stage-from", "host", "--stage-to", "d"])
    expect(bad.code).toBe(2)
    expect(bad.text).toMatch(/-stage-from expects HOST:PORT, got "host"/)
  })
})
