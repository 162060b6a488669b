import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { GpuContext } from "@deepspark/engine"
import { openTestDevice } from "../../packages/engine/src/backend/webgpu/test-device.js"
import type { CliIo } from "./command.js"
import { runCli } from "./run-cli.js"
import { solverCommands } from "./solver-commands.js"

// Whether a WebGPU adapter exists here (lavapipe in CI; openTestDevice allows software adapters).
const probe = await openTestDevice()
const available = probe instanceof GpuContext
if (probe instanceof GpuContext) probe.destroy()

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-cli-gpu-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
fs.writeFileSync(
  path.join(tmp, "small.prototxt"),
  `name: "small"
layer { name: "data" type: "DummyData" top: "x" top: "label"
  dummy_data_param { shape { dim: 4 dim: 2 dim: 6 dim: 6 } shape { dim: 4 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "uniform" min: 0 max: 2.999 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "conv" convolution_param { num_output: 3 kernel_size: 3 weight_filler { type: "xavier" } } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`
)
fs.mkdirSync(path.join(tmp, "gpu"))
fs.mkdirSync(path.join(tmp, "ref"))
const solver = (prefix: string) =>
  `net: "small.prototxt"\nbase_lr: 0.02\nlr_policy: "fixed"\nmomentum: 0.9\nmax_iter: 4\ndisplay: 1\nsnapshot: 4\nsnapshot_prefix: "${prefix}/small"\nrandom_seed: 5\ntest_iter: 2\ntest_interval: 4\n`
fs.writeFileSync(path.join(tmp, "gpu.prototxt"), solver("gpu"))
fs.writeFileSync(path.join(tmp, "ref.prototxt"), solver("ref"))

const run = async (...argv: string[]) => {
  const err: string[] = []
  const io: CliIo = { stdout: () => undefined, stderr: (t) => void err.push(t), cwd: tmp }
  const code = await runCli(argv, io, solverCommands)
  return { code, messages: err.map((l) => l.replace(/^[IWEF]\d{4} \S+ \d+ \S+\] /, "")) }
}

/** The numbers of the lines that report a loss or a score, in order. */
const scores = (messages: ReadonlyArray<string>) =>
  messages.filter((m) => /(loss|accuracy) = /.test(m) && !/iter\/s/.test(m)).map((m) => Number(/(?:loss|accuracy) = ([-\d.e+]+)/.exec(m)![1]))

const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  expect(a.length).toBe(b.length)
  a.forEach((v, k) => expect(Math.abs(v - b[k]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(b[k]!))))
}

describe.skipIf(!available)("deepspark train / test / time on the GPU (device-resident)", () => {
  it("train -gpu 0 logs the adapter, its limits and the tile sizes, and matches the reference backend's losses, test scores and snapshot", async () => {
    const g = await run("train", "-solver", "gpu.prototxt", "-gpu", "0")
    const r = await run("train", "-solver", "ref.prototxt", "-backend", "reference")
    expect(g.code).toBe(0)
    expect(g.messages.some((m) => m.startsWith("Using GPU Device id 0: "))).toBe(true)
    expect(g.messages.some((m) => /^GPU limits: max storage buffer binding \d+ MiB/.test(m))).toBe(true)
    expect(g.messages.some((m) => /^GPU kernels \(WGSL, device-resident\): GEMM (tiles 64x64, K step 16|4x4 outputs per thread, no workgroup memory).*; convolution through a batched im2col column matrix/.test(m))).toBe(true)
    expect(g.messages.some((m) => m.startsWith("Use backend gpu: device-resident WebGPU kernels on "))).toBe(true)
    expect(g.messages.filter((m) => /^Iteration \d+, lr = /.test(m)).length).toBe(4)
    close(scores(g.messages), scores(r.messages))
    expect(fs.existsSync(path.join(tmp, "gpu/small_iter_4.solverstate"))).toBe(true)

    // Resume on the GPU (weights and momentum history go to the device), as the reference resumes.
    const gr = await run("train", "-solver", "gpu.prototxt", "-gpu", "0", "-snapshot", "gpu/small_iter_4.solverstate", "-iterations", "6")
    const rr = await run("train", "-solver", "ref.prototxt", "-backend", "reference", "-snapshot", "ref/small_iter_4.solverstate", "-iterations", "6")
    expect(gr.code).toBe(0)
    close(scores(gr.messages), scores(rr.messages))

    const gt = await run("test", "-model", "small.prototxt", "-weights", "gpu/small_iter_6.caffemodel", "--backend", "gpu", "-iterations", "3")
    const rt = await run("test", "-model", "small.prototxt", "-weights", "ref/small_iter_6.caffemodel", "--backend", "reference", "-iterations", "3")
    expect(gt.code).toBe(0)
    expect(gt.messages.some((m) => m.startsWith("Using GPU Device id 0: "))).toBe(true)
    close(scores(gt.messages), scores(rt.messages))

    const tm = await run("time", "-model", "small.prototxt", "-gpu", "0", "-iterations", "2")
    expect(tm.code).toBe(0)
    expect(tm.messages.some((m) => /^GPU limits: /.test(m))).toBe(true)
    expect(tm.messages.filter((m) => /^Iteration: \d forward-backward time: \S+ ms\.$/.test(m)).length).toBe(2)
    expect(tm.messages.some((m) => /^\s*conv\tbackward: \S+ ms\.$/.test(m))).toBe(true)
    expect(tm.messages).toContain("*** Benchmark ends ***")
  }, 180_000)

  it("-gpu 0,0: one trainer per listed GPU, merged by the center (local mode)", async () => {
    fs.writeFileSync(path.join(tmp, "multi.prototxt"), `net: "small.prototxt"\nbase_lr: 0.02\nlr_policy: "fixed"\nmax_iter: 6\ndisplay: 0\nsnapshot_prefix: "gpu/multi"\n`)
    const m = await run("train", "-solver", "multi.prototxt", "-gpu", "0,0", "--period", "3")
    expect(m.code).toBe(0)
    expect(m.messages.some((l) => /with 2 workers/.test(l))).toBe(true)
    expect(m.messages.filter((l) => /^Exchange \d+ /.test(l)).length).toBe(4)
    expect(fs.existsSync(path.join(tmp, "gpu/multi_iter_6.caffemodel"))).toBe(true)
  }, 120_000)

  it("software adapters are refused without DEEPSPARK_GPU_ALLOW_SOFTWARE=1", async () => {
    const { listAdapters } = await import("@deepspark/engine")
    const hardware = (await listAdapters()).some((a) => !a.summary.software)
    const before = process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"]
    delete process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"]
    try {
      const g = await run("train", "-solver", "gpu.prototxt", "-gpu", "0", "-iterations", "1")
      if (hardware) expect(g.code).toBe(0)
      else {
        expect(g.code).not.toBe(0)
        expect(g.messages.join("\n")).toMatch(/only software adapters .*DEEPSPARK_GPU_ALLOW_SOFTWARE=1/)
      }
    } finally {
      if (before !== undefined) process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] = before
    }
  }, 60_000)

  it("-gpu with another backend, or several GPUs for test, is a usage error", async () => {
    expect((await run("train", "-solver", "gpu.prototxt", "-gpu", "0", "-backend", "cpu")).code).not.toBe(0)
    expect((await run("test", "-model", "small.prototxt", "-weights", "gpu/small_iter_4.caffemodel", "-gpu", "0,1")).code).not.toBe(0)
    expect((await run("train", "-solver", "gpu.prototxt", "-gpu", "x")).code).not.toBe(0)
  })

  it("a layer the device lacks is refused at start-up, named", async () => {
    fs.writeFileSync(path.join(tmp, "absval.prototxt"), fs.readFileSync(path.join(tmp, "small.prototxt"), "utf8").replace('layer { name: "relu" type: "ReLU"', 'layer { name: "abs" type: "AbsVal"'))
    fs.writeFileSync(path.join(tmp, "absval_solver.prototxt"), `net: "absval.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 2\nsnapshot_after_train: false\n`)
    const a = await run("train", "-solver", "absval_solver.prototxt", "-gpu", "0")
    expect(a.code).not.toBe(0)
    expect(a.messages.join("\n")).toMatch(/layer abs \(AbsVal\): not on the device yet/)
    expect(a.messages.some((m) => m.startsWith("Starting Optimization"))).toBe(false)
  })
})
