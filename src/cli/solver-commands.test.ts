import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { CliIo } from "./command.js"
import { runCli } from "./run-cli.js"
import { solverCommands } from "./solver-commands.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-cli-train-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const write = (name: string, text: string): string => {
  const file = path.join(tmp, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

/** A tiny regression net: random inputs x (4×3), constant targets y (4×2), y ≈ W·x + b. */
const tinyNet = (outputs = 2, bottom = "x") => `name: "tiny"
layer { name: "data" type: "DummyData" top: "x" top: "y"
  dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 0.5 } } }
layer { name: "ip" type: "InnerProduct" bottom: "${bottom}" top: "p"
  inner_product_param { num_output: ${outputs} weight_filler { type: "xavier" } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" }
`
write("tiny.prototxt", tinyNet())
write("tiny5.prototxt", tinyNet(5).replace("dim: 4 dim: 2 }", "dim: 4 dim: 5 }"))
write("broken.prototxt", tinyNet(2, "nowhere"))
const solver = (extra = "", net = "tiny.prototxt") =>
  `net: "${net}"\nbase_lr: 0.05\nlr_policy: "fixed"\nmomentum: 0.9\nmax_iter: 4\ndisplay: 2\nsnapshot: 4\nsnapshot_prefix: "snap/tiny"\nrandom_seed: 3\n${extra}`
write("solver.prototxt", solver())
write("snap/.keep", "")

const run = async (...argv: string[]) => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd: tmp }
  const code = await runCli(argv, io, solverCommands)
  // glog lines: strip the prefix for readability
  const messages = err.map((l) => l.replace(/^[IWEF]\d{4} \S+ \d+ \S+\] /, ""))
  return { code, out, err, messages }
}

describe("deepspark train / test / time", () => {
  it("train writes Caffe's lines and the snapshots; -snapshot resumes; test and time score the result", async () => {
    const t = await run("train", "-solver", "solver.prototxt", "-backend", "reference")
    expect(t.code).toBe(0)
    expect(t.messages).toContain("Solving tiny")
    expect(t.messages).toContain("Learning Rate Policy: fixed")
    expect(t.messages.some((m) => /^Iteration 2 \(\S+ iter\/s, \S+s\/2 iters\), loss = \S+$/.test(m))).toBe(true)
    expect(t.messages).toContain("Iteration 2, lr = 0.05")
    expect(t.messages.some((m) => /^Snapshotting to binary proto file \S*snap\/tiny_iter_4\.caffemodel$/.test(m))).toBe(true)
    expect(t.messages.slice(-2)).toEqual(["Optimization Done.", "Optimization Done."])
    expect(fs.existsSync(path.join(tmp, "snap/tiny_iter_4.solverstate"))).toBe(true)

    const r = await run("train", "--solver=solver.prototxt", "-snapshot", "snap/tiny_iter_4.solverstate", "-iterations", "6", "-backend", "reference")
    expect(r.code).toBe(0)
    expect(r.messages).toContain("Restoring previous solver status from snap/tiny_iter_4.solverstate")
    expect(r.messages.some((m) => m.startsWith("Iteration 4 ("))).toBe(true)
    expect(r.messages.some((m) => m.startsWith("Iteration 0 ("))).toBe(false)
    expect(fs.existsSync(path.join(tmp, "snap/tiny_iter_6.caffemodel"))).toBe(true)

    const s = await run("test", "-model", "tiny.prototxt", "-weights", "snap/tiny_iter_6.caffemodel", "-iterations", "3", "-backend", "reference")
    expect(s.code).toBe(0)
    expect(s.messages).toContain("Running for 3 iterations.")
    expect(s.messages.filter((m) => /^Batch \d, loss = \S+$/.test(m)).length).toBe(3)
    expect(s.messages.some((m) => /^Loss: \S+$/.test(m))).toBe(true)
    expect(s.messages[s.messages.length - 1]).toMatch(/^loss = (\S+) \(\* 1 = \1 loss\)$/)

    const tm = await run("time", "-model", "tiny.prototxt", "-iterations", "2", "-backend", "reference")
    expect(tm.code).toBe(0)
    expect(tm.messages).toContain("*** Benchmark begins ***")
    expect(tm.messages).toContain("Testing for 2 iterations.")
    expect(tm.messages.filter((m) => m.startsWith("Iteration: ")).length).toBe(2)
    expect(tm.messages.some((m) => /^ {8}ip\tforward: \S+ ms\.$/.test(m))).toBe(true)
    expect(tm.messages.some((m) => /^Average Forward-Backward: \S+ ms\.$/.test(m))).toBe(true)
  })

  it("fine-tunes from -weights, logging Caffe's lines", async () => {
    const f = await run("train", "-solver", "solver.prototxt", "-weights", "snap/tiny_iter_4.caffemodel", "-iterations", "1", "-backend", "reference")
    expect(f.code).toBe(0)
    expect(f.messages).toContain("Finetuning from snap/tiny_iter_4.caffemodel")
    expect(f.messages.some((m) => m.startsWith("Iteration 0 ("))).toBe(true)
  })

  it("bad input: one clear error line, a non-zero exit, no partial snapshot", async () => {
    write("nan.prototxt", solver("", "tiny.prototxt").replace("base_lr: 0.05", "base_lr: 1e30").replace("snap/tiny", "snap/nan"))
    const nan = await run("train", "-solver", "nan.prototxt", "-backend", "reference")
    expect(nan.code).toBe(1)
    expect(nan.err[nan.err.length - 1]).toMatch(/^deepspark train: Iteration \d+: the training loss of net "tiny" is (NaN|inf)/)
    expect(fs.readdirSync(path.join(tmp, "snap")).filter((f) => f.startsWith("nan"))).toEqual([])

    const other = await run("test", "-model", "tiny5.prototxt", "-weights", "snap/tiny_iter_4.caffemodel", "-backend", "reference")
    expect(other.code).toBe(1)
    expect(other.err[other.err.length - 1]).toMatch(/^deepspark test: snap\/tiny_iter_4\.caffemodel: layer "ip": cannot copy param 0 weights; shape mismatch/)

    write("broken-solver.prototxt", solver("", "broken.prototxt"))
    const broken = await run("train", "-solver", "broken-solver.prototxt", "-backend", "reference")
    expect(broken.code).toBe(1)
    expect(broken.err[broken.err.length - 1]).toMatch(/^deepspark train: layer 'ip': unknown bottom blob 'nowhere'/)

    write("mismatch.prototxt", tinyNet(5))
    write("mismatch-solver.prototxt", solver("", "mismatch.prototxt"))
    const mismatch = await run("train", "-solver", "mismatch-solver.prototxt", "-backend", "reference")
    expect(mismatch.code).toBe(1)
    expect(mismatch.err[mismatch.err.length - 1]).toMatch(/^deepspark train: layer 'loss' \(EuclideanLoss\).*\(4,5\) vs \(4,2\)/)

    write("hdf5.prototxt", solver("snapshot_format: HDF5\n"))
    const hdf5 = await run("train", "-solver", "hdf5.prototxt", "-backend", "reference")
    expect(hdf5.code).toBe(1)
    expect(hdf5.err[hdf5.err.length - 1]).toMatch(/HDF5 is not supported/)

    const both = await run("train", "-solver", "solver.prototxt", "-weights", "a.caffemodel", "-snapshot", "b.solverstate")
    expect(both.code).toBe(2)
    expect(both.err.join("\n")).toMatch(/not both/)
    expect((await run("train")).code).toBe(2)
    expect((await run("test", "-model", "tiny.prototxt")).code).toBe(2)
  })
})
