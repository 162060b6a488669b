import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { CliIo } from "./command.js"
import { runCli } from "./run-cli.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const corpus = path.resolve(repoRoot, "../shared/caffe")

/** Runs the CLI in-process from `cwd`, collecting what it prints. */
const cli = async (argv: string[], cwd = corpus) => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd }
  const code = await runCli(argv, io)
  return { code, out, err }
}

const json = async (argv: string[]) => {
  const r = await cli([...argv, "--json"])
  expect(r.err).toEqual([])
  expect(r.code).toBe(0)
  expect(r.out).toHaveLength(1)
  return JSON.parse(r.out[0]!)
}

const prototxts = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name)
    return e.isDirectory() ? prototxts(full) : e.name.endsWith(".prototxt") ? [path.relative(corpus, full)] : []
  })

describe("deepspark inspect", () => {
  it("a deploy net as JSON: layers, blob shapes, parameter shapes, parameter count", async () => {
    const j = await json(["inspect", "examples/mnist/lenet.prototxt"])
    expect(j.name).toBe("LeNet")
    expect(j.phase).toBe("TEST")
    expect(j.layers[1]).toEqual({ name: "conv1", type: "Convolution", bottom: ["data"], top: ["conv1"] })
    expect(j.blobs).toMatchObject({ data: [64, 1, 28, 28], conv1: [64, 20, 24, 24], pool2: [64, 50, 4, 4], prob: [64, 10] })
    expect(j.params).toEqual({ conv1: [[20, 1, 5, 5], [20]], conv2: [[50, 20, 5, 5], [50]], ip1: [[500, 800], [500]], ip2: [[10, 500], [10]] })
    expect(j.paramCount).toBe(431080)
    expect(Object.keys(j).slice(0, 6)).toEqual(["name", "phase", "level", "stages", "layers", "blobs"])
  })

  it("Caffe-style flags: -model, -phase, -stage, --flag=value", async () => {
    const a = await json(["inspect", "-model", "examples/mnist/lenet_train_test.prototxt", "-phase", "TEST"])
    expect(a.layers.map((l: { name: string }) => l.name)).toContain("label_mnist_1_split")
    expect(a.outputs).toEqual(["accuracy", "loss"])
    expect(a.blobs.data).toBeNull()
    expect(a.blobs.label).toEqual([100])
    expect(a.paramCount).toBeNull()
    const b = await json(["inspect", "examples/mnist/lenet_train_test.prototxt", "--phase=TRAIN", "--data-shape=data=1,28,28"])
    expect(b.phase).toBe("TRAIN")
    expect(b.outputs).toEqual(["loss"])
    expect(b.blobs.data).toEqual([64, 1, 28, 28])
    expect(b.paramCount).toBe(431080)
    const c = await json(["inspect", "examples/mnist/mnist_autoencoder.prototxt", "-stage", "test-on-train", "--level", "0"])
    expect(c.stages).toEqual(["test-on-train"])
    expect(c.layers.filter((l: { type: string }) => l.type === "Data")).toHaveLength(1)
  })

  it("a human-readable table", async () => {
    const r = await cli(["inspect", "models/bvlc_reference_caffenet/deploy.prototxt"])
    expect(r.code).toBe(0)
    const text = r.out.join("\n")
    expect(text).toMatch(/pool5\s+Pooling\s+conv5\s+pool5\s+10 256 6 6 \(92160\)/)
    expect(text).toMatch(/conv2\s+Convolution\s+norm1\s+conv2\s+10 256 27 27 \(1866240\)\s+256x48x5x5, 256/)
    expect(text).toContain("learnable parameters: 60,965,224 in 16 blobs")
  })

  it("a solver: resolved fields with defaults, and its nets", async () => {
    const j = await json(["inspect", "-solver", "examples/mnist/lenet_solver.prototxt"])
    expect(j.solver).toMatchObject({
      net: "examples/mnist/lenet_train_test.prototxt",
      base_lr: 0.01,
      lr_policy: "inv",
      type: "SGD",
      momentum2: 0.999,
      delta: 1e-8,
      snapshot_prefix: "examples/mnist/lenet",
      snapshot_format: "BINARYPROTO",
      test_initialization: true,
      iter_size: 1
    })
    expect(j.nets.map((n: { role: string; phase: string; source: string }) => [n.role, n.phase, n.source])).toEqual([
      ["train", "TRAIN", "net file: examples/mnist/lenet_train_test.prototxt"],
      ["test", "TEST", "net file: examples/mnist/lenet_train_test.prototxt"]
    ])
    const consolidated = await json(["inspect", "examples/mnist/lenet_consolidated_solver.prototxt"])
    expect(consolidated.nets.map((n: { stages: string[]; testIter?: number }) => [n.stages, n.testIter ?? null])).toEqual([
      [[], null],
      [["test-on-test-set"], 100],
      [["test-on-train-set"], 600]
    ])
    const table = await cli(["inspect", "examples/mnist/mnist_autoencoder_solver.prototxt"])
    expect(table.code).toBe(0)
    expect(table.out.join("\n")).toContain("== test net #1 (test_iter 100) from net file: examples/mnist/mnist_autoencoder.prototxt")
  })

  it("bad input: one clear line and a non-zero exit", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inspect-"))
    const bad = path.join(dir, "bad.prototxt")
    fs.writeFileSync(bad, 'name: "x"\nlayer {\n  name: "a"\n  type: "Input"\n  top: "a"\n  input_param { shape { dim: 1 dim: } }\n}\n')
    const parse = await cli(["inspect", bad, "--json"])
    expect(parse.code).toBe(1)
    expect(parse.out).toEqual([])
    expect(parse.err).toHaveLength(1)
    expect(parse.err[0]).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:6:\\d+`))
    const missing = await cli(["inspect", "nope.prototxt"])
    expect(missing).toMatchObject({ code: 1, err: ["deepspark inspect: nope.prototxt: cannot read file: no such file"] })
    const auto = await cli(["inspect", "examples/mnist/mnist_autoencoder.prototxt"])
    expect(auto.code).toBe(1)
    expect(auto.err).toEqual([
      "deepspark inspect: examples/mnist/mnist_autoencoder.prototxt: layer 'flatdata': unknown bottom blob 'data' (bottom index 0); no earlier layer produces it (layer 'data' producing it is excluded in phase TEST, level 0, stages none)"
    ])
    const usage = await cli(["inspect", "a", "--bogus"])
    expect(usage.code).toBe(2)
    expect(usage.err[0]).toMatch(/unknown option --bogus/)
    expect((await cli(["inspect"])).code).toBe(2)
    expect((await cli(["inspect", "x", "--phase", "VAL"])).err[0]).toMatch(/--phase must be TRAIN or TEST/)
    expect((await cli(["frobnicate"])).code).toBe(2)
    fs.rmSync(dir, { recursive: true })
  })

  it("every prototxt of the Caffe corpus goes through inspect --json", async () => {
    // Known failures, each a single clear line: a Python layer, nets that need a stage, and solvers
    // naming files that are not in the corpus (generated by a notebook / relative to another folder).
    const expectedFailures: Record<string, RegExp> = {
      "examples/pycaffe/linreg.prototxt": /type 'Python' is not supported/,
      "examples/mnist/mnist_autoencoder.prototxt": /excluded in phase TEST/,
      "examples/mnist/lenet_auto_solver.prototxt": /mnist\/lenet_auto_train\.prototxt: cannot read file/,
      "reference/timing/lenet_solver_speed1000.prototxt": /lenet_train_test\.prototxt: cannot read file/
    }
    const files = prototxts(corpus)
    expect(files.length).toBeGreaterThanOrEqual(54)
    for (const file of files) {
      const r = await cli(["inspect", file, "--json"])
      const failure = expectedFailures[file]
      if (failure !== undefined) {
        expect({ file, code: r.code, lines: r.err.length }).toEqual({ file, code: 1, lines: 1 })
        expect(r.err[0]).toMatch(failure)
        continue
      }
      expect({ file, code: r.code, err: r.err }).toEqual({ file, code: 0, err: [] })
      expect(r.out).toHaveLength(1)
      const j = JSON.parse(r.out[0]!)
      const nets = "solver" in j ? j.nets : [j]
      expect(nets.length).toBeGreaterThan(0)
      for (const n of nets) {
        expect(n.layers.length).toBeGreaterThan(0)
        // Nets fed by Input / DummyData are fully known; Data / HDF5Data / WindowData tops are not
        // (ImageData is, when it crops or resizes).
        const types = new Set(n.layers.map((l: { type: string }) => l.type))
        const unknownData = ["Data", "HDF5Data", "WindowData"].some((t) => types.has(t))
        const hasNull = Object.values(n.blobs).some((v) => v === null)
        expect({ file, hasNull }).toEqual({ file, hasNull: unknownData })
        if (!unknownData) expect(n.paramCount).toBeGreaterThan(0)
      }
    }
  })
})
