/**
 * The seed-1701 LeNet trajectory (lenet-seed1701.test.ts, Caffe's reference run in
 * test/fixtures/caffe/reference/lenet-seed1701) on the `gpu` backend: gpu.js's auto choice, i.e. webgpu on a
 * hardware adapter, else webasm (on a machine without a GPU; DEEPSPARK_GPU_WEBGPU=0 forces it).
 *
 * The default-suite form (the full one, with the two 10,000-image test passes, is
 * test/long/lenet-seed1701-gpu.test.ts): Caffe's 21 losses to 6 significant digits, the 20 lr lines, the
 * iteration-20 weights, and the iteration-0 / iteration-20 test passes on the first TEST_BATCHES test
 * batches, compared with the cpu backend's on the same batches (Caffe logged only the full passes).
 *
 * What this guards: Caffe's trajectory turns on the summation order of conv2's forward GEMM (K = 500):
 * summed another way (two interleaved accumulators, as the gpu GEMM did, or in float64) the run jumps off
 * Caffe's in iteration 7 and ends 1.7e-2 from its iteration-20 weights (11 of the 21 losses off in the
 * 6th digit); the gpu GEMM now sums like the cpu backend (K in blocks of 256, each block in order).
 */
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { readCaffemodelSync, readSolverPrototxtSync } from "@deepspark/caffe"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Backend } from "../src/backend/backend.js"
import { createCpuBackend } from "../src/backend/cpu/cpu-backend.js"
import { type GpuBackend, createGpuBackend } from "../src/backend/gpu/gpu-backend.js"
import { CapturingLogger } from "../src/train/logger.js"
import { compareWeights } from "./support/compare-weights.js"
import { mnistLenetFolder } from "./support/mnist-lenet-folder.js"
import { createTrainingSession, loadWeights } from "../src/train/training-session.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const ref = path.join(repoRoot, "test/fixtures/caffe/reference/lenet-seed1701")

/** Test batches (of 100 images) per test pass: 10 keeps the gpu run near 25 s on webasm here. */
const TEST_BATCHES = 10

/** Caffe's iteration, loss and lr columns (threads1; the three runs agree). */
const caffeRows = (): { iter: number; loss: number; lr: string }[] =>
  fs
    .readFileSync(path.join(ref, "seed1701_20iter_losses.csv"), "utf8")
    .split("\n")
    .filter((l) => /^\d+,/.test(l))
    .map((l) => l.split(","))
    .map((f) => ({ iter: Number(f[0]), loss: Number(f[3]), lr: f[4]!.trim() }))

let cwd = ""
let gpu: GpuBackend

beforeAll(async () => {
  cwd = await mnistLenetFolder("lenet-seed1701-gpu-")
  gpu = await createGpuBackend({ mode: "auto" })
}, 120_000)

afterAll(() => {
  gpu?.destroy()
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true })
})

/** The 20-iteration seed-1701 run from Caffe's initial weights, test passes on the first `testBatches` batches. */
const train = async (backend: Backend, testBatches: number) => {
  const log = new CapturingLogger()
  let solverParam = readSolverPrototxtSync(path.join(ref, "lenet_solver_20iter.prototxt"))
  solverParam = { ...solverParam, test_iter: [testBatches], snapshot: 0, snapshot_prefix: path.join(cwd, `lenet_${backend.name}`) }
  const session = await createTrainingSession({ solverParam, cwd, backend, log })
  loadWeights(session, [path.join(ref, "lenet_seed1701_iter_0_init.caffemodel")], log)
  const t0 = performance.now()
  await session.solver.solveAsync()
  const seconds = (performance.now() - t0) / 1000
  await session.close()
  const losses = [...session.solver.iterationLosses]
  losses.push(Number(log.messages.find((m) => m.startsWith("Iteration 20, loss = "))?.split(" = ")[1]))
  const lrLines = log.messages.filter((m) => /^Iteration \d+, lr = /.test(m))
  // Accuracy and loss lines at iteration 0 and at iteration 20, and their values.
  const testLines = log.messages.filter((m) => m.startsWith("    Test net output"))
  const tests = testLines.map((m) => Number(/ = (\S+)/.exec(m)![1]))
  return { net: session.trainNet, losses, lrLines, testLines, tests, seconds }
}

describe("LeNet seed 1701 on the gpu backend (Caffe reference run, 20 iterations)", () => {
  it(`reproduces Caffe's 21 losses to 6 digits, the lr lines, the iteration-20 weights, and the cpu backend's test scores on ${TEST_BATCHES} test batches`, async () => {
    const run = await train(gpu, TEST_BATCHES)
    console.log(`gpu backend: ${gpu.description}; 20 iterations + 2 × ${TEST_BATCHES} test batches in ${run.seconds.toFixed(1)} s`)
    const caffe = caffeRows()
    expect(caffe.map((r) => r.iter)).toEqual(Array.from({ length: 21 }, (_, i) => i))
    console.log(run.losses.map((l, i) => `${i}: ${l.toPrecision(6)} vs Caffe ${caffe[i]!.loss}`).join("\n"))
    expect(run.losses.map((l) => l.toPrecision(6))).toEqual(caffe.map((r) => r.loss.toPrecision(6)))
    // Caffe logs the lr used by each update, iterations 0..19.
    expect(run.lrLines).toEqual(caffe.slice(0, 20).map((r) => `Iteration ${r.iter}, lr = ${r.lr}`))

    const worst = compareWeights(run.net, readCaffemodelSync(path.join(ref, "lenet_seed1701_iter_20.caffemodel")))
    console.log(`iteration-20 weights: worst relative difference ${worst.toExponential(3)} (the cpu backend: 3.3e-7)`)
    expect(worst).toBeLessThan(1e-6)

    // Test passes: the same images through the cpu backend's net (which holds Caffe's full passes).
    const cpu = await train(await createCpuBackend(), TEST_BATCHES)
    console.log(`test [accuracy, loss] at iterations 0 and 20, gpu ${JSON.stringify(run.tests)} vs cpu ${JSON.stringify(cpu.tests)}`)
    expect(run.testLines).toHaveLength(4)
    expect(run.testLines).toEqual(cpu.testLines) // Caffe's 6 printed digits
    // Sanity: 20 iterations took the net from chance to most digits right on these images.
    expect(run.tests[0]).toBeLessThan(0.2)
    expect(run.tests[2]).toBeGreaterThan(0.6)
  }, 300_000)
})
