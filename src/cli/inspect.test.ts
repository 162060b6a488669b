import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { caffeZoo } from "../../test/support/caffe-zoo.js"
import type { CliIo } from "./command.js"
import { runCli } from "./run-cli.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
/**
 * A Caffe-like root holding the repository's examples/mnist prototxts and nothing else: the examples and
 * the demo write MNIST databases into the repository's examples/mnist, and a Data layer whose database
 * exists is inspected with its shapes, so the tests run from a copy that stays as Caffe ships it.
 */
const mnistRoot = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-inspect-"))
fs.mkdirSync(path.join(mnistRoot, "examples/mnist"), { recursive: true })
for (const f of fs.readdirSync(path.join(repoRoot, "examples/mnist")))
  if (f.endsWith(".prototxt")) fs.copyFileSync(path.join(repoRoot, "examples/mnist", f), path.join(mnistRoot, "examples/mnist", f))
afterAll(() => fs.rmSync(mnistRoot, { recursive: true, force: true }))
/** Caffe's files the repository ships beyond examples/mnist, laid out as in a Caffe root (test/fixtures/README.md). */
const fixtures = path.join(repoRoot, "test/fixtures/caffe")

/** Runs the CLI in-process from `cwd` (by default a root with Caffe's examples/mnist), collecting what it prints. */
const cli = async (argv: string[], cwd = mnistRoot) => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd }
  const code = await runCli(argv, io)
  return { code, out, err }
}

const json = async (argv: string[], cwd = mnistRoot) => {
  const r = await cli([...argv, "--json"], cwd)
  expect(r.err).toEqual([])
  expect(r.code).toBe(0)
  expect(r.out).toHaveLength(1)
  return JSON.parse(r.out[0]!)
}

/** The .prototxt files under `root`/`dir`, relative to `root`. */
const prototxts = (root: string, dir: string): string[] =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name)
    return e.isDirectory() ? prototxts(root, rel) : e.name.endsWith(".prototxt") ? [rel] : []
  })

/**
 * Runs `inspect --json` on each file from the folder Caffe runs it from (`cwd`), and checks the result:
 * exit 0, stderr empty unless `expectedStderr` names the file, and every net shown with its layers and
 * (when fed by Input / DummyData) fully known shapes.
 */
const inspectsCleanly = async (
  files: ReadonlyArray<{ readonly name: string; readonly file: string; readonly cwd: string }>,
  expectedStderr: Readonly<Record<string, RegExp>>,
  allNetsMissing: ReadonlySet<string>
) => {
  for (const { name, file, cwd } of files) {
    const r = await cli(["inspect", path.relative(cwd, file), "--json"], cwd)
    expect({ name, code: r.code }).toEqual({ name, code: 0 })
    const stderr = expectedStderr[name]
    if (stderr !== undefined) expect(r.err[0]).toMatch(stderr)
    else expect({ name, err: r.err }).toEqual({ name, err: [] })
    expect(r.out).toHaveLength(1)
    const j = JSON.parse(r.out[0]!)
    const nets = ("solver" in j ? j.nets : [j]).filter((n: { error?: string }) => n.error === undefined)
    expect({ name, shown: nets.length > 0 }).toEqual({ name, shown: !allNetsMissing.has(name) })
    for (const n of nets) {
      expect(n.layers.length).toBeGreaterThan(0)
      // Nets fed by Input / DummyData are fully known; Data / HDF5Data / WindowData tops are not
      // (ImageData is, when it crops or resizes), nor are a Python layer's.
      const types = new Set(n.layers.map((l: { type: string }) => l.type))
      const unknownData = ["Data", "HDF5Data", "WindowData", "Python"].some((t) => types.has(t))
      const hasNull = Object.values(n.blobs).some((v) => v === null)
      expect({ name, hasNull }).toEqual({ name, hasNull: unknownData })
      if (!unknownData) expect(n.paramCount).toBeGreaterThan(0)
    }
  }
}

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

  it("Caffe-style flags: -model, -phase, --flag=value", async () => {
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
    const solverMissing = await cli(["inspect", "-solver", "examples/mnist/nope_solver.prototxt"])
    expect(solverMissing).toMatchObject({ code: 1, err: ["deepspark inspect: examples/mnist/nope_solver.prototxt: cannot read file: no such file"] })
    const usage = await cli(["inspect", "a", "--bogus"])
    expect(usage.code).toBe(2)
    expect(usage.err[0]).toMatch(/unknown option --bogus/)
    expect((await cli(["inspect"])).code).toBe(2)
    expect((await cli(["inspect", "x", "--phase", "VAL"])).err[0]).toMatch(/--phase must be TRAIN or TEST/)
    expect((await cli(["frobnicate"])).code).toBe(2)
    fs.rmSync(dir, { recursive: true })
  })

  it("a solver with one net file missing: that net reported missing, the other shown, one warning", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inspect-"))
    fs.copyFileSync(path.join(repoRoot, "examples/mnist/lenet.prototxt"), path.join(dir, "deploy.prototxt"))
    fs.writeFileSync(path.join(dir, "s.prototxt"), 'train_net: "deploy.prototxt"\ntest_net: "gone.prototxt"\ntest_iter: 1\ntest_interval: 10\nbase_lr: 5e-05\n')
    const half = await cli(["inspect", "s.prototxt", "--json"], dir)
    expect(half.code).toBe(0)
    expect(half.err).toHaveLength(1)
    const h = JSON.parse(half.out[0]!)
    expect(h.solver.base_lr).toBe(5e-5)
    expect(h.nets.map((n: { name?: string; error?: string }) => n.name ?? n.error)).toEqual(["LeNet", "no such file: gone.prototxt"])
    fs.rmSync(dir, { recursive: true })
  })

  it("every Caffe prototxt the repository ships goes through inspect --json", async () => {
    // Each from the folder Caffe runs it from: a Caffe root for examples/ (the repository's own for
    // examples/mnist and the seed-1701 solver, whose net is examples/mnist/lenet_train_test.prototxt),
    // its own folder for the timing nets (the timing solver's lenet_train_test.prototxt is not beside it).
    const files = [
      ...prototxts(mnistRoot, "examples/mnist").map((name) => ({ name, file: path.join(mnistRoot, name), cwd: mnistRoot })),
      ...prototxts(fixtures, "examples").map((name) => ({ name, file: path.join(fixtures, name), cwd: fixtures })),
      ...prototxts(fixtures, "reference/lenet-seed1701").map((name) => ({ name, file: path.join(fixtures, name), cwd: mnistRoot })),
      ...prototxts(fixtures, "reference/timing").map((name) => ({ name, file: path.join(fixtures, name), cwd: path.join(fixtures, "reference/timing") }))
    ]
    expect(files.length).toBeGreaterThanOrEqual(12)
    await inspectsCleanly(
      files,
      { "reference/timing/lenet_solver_speed1000.prototxt": /warning: .*no such file: lenet_train_test\.prototxt/ },
      new Set(["reference/timing/lenet_solver_speed1000.prototxt"])
    )
  })
})

describe.skipIf(caffeZoo === undefined)("deepspark inspect on Caffe's model zoo (DEEPSPARK_CAFFE_ROOT or ../shared/caffe)", () => {
  // Run from the Caffe checkout, as Caffe runs its examples.
  const zoo = caffeZoo ?? ""

  it("-stage and --level pick the autoencoder's data layer", async () => {
    const c = await json(["inspect", "examples/mnist/mnist_autoencoder.prototxt", "-stage", "test-on-train", "--level", "0"], zoo)
    expect(c.stages).toEqual(["test-on-train"])
    expect(c.layers.filter((l: { type: string }) => l.type === "Data")).toHaveLength(1)
  })

  it("a human-readable table", async () => {
    const r = await cli(["inspect", "models/bvlc_reference_caffenet/deploy.prototxt"], zoo)
    expect(r.code).toBe(0)
    const text = r.out.join("\n")
    expect(text).toMatch(/pool5\s+Pooling\s+conv5\s+pool5\s+10 256 6 6 \(92160\)/)
    expect(text).toMatch(/conv2\s+Convolution\s+norm1\s+conv2\s+10 256 27 27 \(1866240\)\s+256x48x5x5, 256/)
    expect(text).toContain("learnable parameters: 60,965,224 in 16 blobs")
  })

  it("solvers with inline and staged test nets", async () => {
    const consolidated = await json(["inspect", "examples/mnist/lenet_consolidated_solver.prototxt"], zoo)
    expect(consolidated.nets.map((n: { stages: string[]; testIter?: number }) => [n.stages, n.testIter ?? null])).toEqual([
      [[], null],
      [["test-on-test-set"], 100],
      [["test-on-train-set"], 600]
    ])
    const table = await cli(["inspect", "examples/mnist/mnist_autoencoder_solver.prototxt"], zoo)
    expect(table.code).toBe(0)
    expect(table.out.join("\n")).toContain("== test net #1 (test_iter 100) from net file: examples/mnist/mnist_autoencoder.prototxt")
  })

  it("an explicit phase never falls back: one clear line and a non-zero exit", async () => {
    const auto = await cli(["inspect", "examples/mnist/mnist_autoencoder.prototxt", "--phase", "TEST"], zoo)
    expect(auto.code).toBe(1)
    expect(auto.err).toEqual([
      "deepspark inspect: examples/mnist/mnist_autoencoder.prototxt: layer 'flatdata': unknown bottom blob 'data' (bottom index 0); no earlier layer produces it (layer 'data' producing it is excluded in phase TEST, level 0, stages none)"
    ])
  })

  it("a net file without --phase falls back to TRAIN when its default phase leaves a bottom unproduced", async () => {
    const r = await cli(["inspect", "examples/mnist/mnist_autoencoder.prototxt", "--json"], zoo)
    expect(r.code).toBe(0)
    expect(r.err).toEqual([
      "deepspark inspect: note: examples/mnist/mnist_autoencoder.prototxt: showing phase TRAIN, as in phase TEST, level 0, stages none nothing produces bottom 'data' of layer 'flatdata' (layer 'data' is excluded); --phase chooses the phase"
    ])
    const j = JSON.parse(r.out[0]!)
    expect(j.phase).toBe("TRAIN")
    expect(j.layers.filter((l: { type: string }) => l.type === "Data").map((l: { name: string }) => l.name)).toEqual(["data"])
    // A phase that builds is kept: lenet_train_test in TEST, no note.
    const t = await cli(["inspect", "examples/mnist/lenet_train_test.prototxt", "--json"], zoo)
    expect({ code: t.code, err: t.err, phase: JSON.parse(t.out[0]!).phase }).toEqual({ code: 0, err: [], phase: "TEST" })
  })

  it("Python layers: shown with unknown shapes and a warning (training refuses them)", async () => {
    const r = await cli(["inspect", "examples/pycaffe/linreg.prototxt", "--json"], zoo)
    expect(r.code).toBe(0)
    expect(r.err).toEqual(["deepspark inspect: warning: examples/pycaffe/linreg.prototxt: layer 'loss': Python layers are not supported for training"])
    const j = JSON.parse(r.out[0]!)
    expect(j.blobs).toEqual({ x: [10, 3, 2], y: [10, 3, 2], ipx: [10, 10], ipy: [10, 10], loss: null })
    expect(j.layers.at(-1)).toEqual({ name: "loss", type: "Python", bottom: ["ipx", "ipy"], top: ["loss"] })
    expect(j.paramCount).toBeNull()
    const table = await cli(["inspect", "examples/pycaffe/linreg.prototxt"], zoo)
    expect(table.out.join("\n")).toMatch(/4\s+loss\s+Python\s+ipx, ipy\s+loss\s+\?  \(loss ×1\)/)
    expect(table.out.join("\n")).toContain("? = unknown (computed by 'loss').")
  })

  it("a solver whose net files do not exist: the resolved solver, each net reported missing, a warning", async () => {
    const r = await cli(["inspect", "examples/mnist/lenet_auto_solver.prototxt", "--json"], zoo)
    expect(r.code).toBe(0)
    expect(r.err).toEqual([
      "deepspark inspect: warning: examples/mnist/lenet_auto_solver.prototxt: train_net: no such file: mnist/lenet_auto_train.prototxt; its net is not shown (Caffe resolves net paths from the working directory)",
      "deepspark inspect: warning: examples/mnist/lenet_auto_solver.prototxt: test_net: no such file: mnist/lenet_auto_test.prototxt; its net is not shown (Caffe resolves net paths from the working directory)"
    ])
    const j = JSON.parse(r.out[0]!)
    expect(j.solver).toMatchObject({ train_net: "mnist/lenet_auto_train.prototxt", base_lr: 0.01, type: "SGD" })
    expect(j.nets).toEqual([
      { role: "train", index: 0, source: "train_net file: mnist/lenet_auto_train.prototxt", error: "no such file: mnist/lenet_auto_train.prototxt" },
      { role: "test", index: 0, source: "test_net file: mnist/lenet_auto_test.prototxt", testIter: 100, error: "no such file: mnist/lenet_auto_test.prototxt" }
    ])
    // Run from examples/ (the notebook's folder) the paths resolve differently; still missing there.
    const table = await cli(["inspect", "lenet_auto_solver.prototxt"], path.join(zoo, "examples/mnist"))
    expect(table.code).toBe(0)
    expect(table.out.join("\n")).toContain("== train net from train_net file: mnist/lenet_auto_train.prototxt\nmissing: no such file: mnist/lenet_auto_train.prototxt")
  })

  it("every prototxt of the zoo's examples/ and models/ goes through inspect --json", async () => {
    // Files that print a note or warning (stderr) and still exit 0: the autoencoder needs a stage in
    // TEST (shown in TRAIN), a Python layer, a solver naming net files a notebook generates.
    const files = [...prototxts(zoo, "examples"), ...prototxts(zoo, "models")].map((name) => ({ name, file: path.join(zoo, name), cwd: zoo }))
    expect(files.length).toBeGreaterThanOrEqual(54)
    await inspectsCleanly(
      files,
      {
        "examples/pycaffe/linreg.prototxt": /warning: .*layer 'loss': Python layers are not supported for training/,
        "examples/mnist/mnist_autoencoder.prototxt": /note: .*showing phase TRAIN/,
        "examples/mnist/lenet_auto_solver.prototxt": /warning: .*no such file: mnist\/lenet_auto_train\.prototxt/
      },
      new Set(["examples/mnist/lenet_auto_solver.prototxt"])
    )
  })
})
