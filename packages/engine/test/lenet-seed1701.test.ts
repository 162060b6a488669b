/**
 * The key acceptance test: Caffe's LeNet run with random_seed 1701 (test/fixtures/caffe/reference/lenet-seed1701),
 * reproduced end to end — real MNIST converted to LMDB as convert_mnist_data does, the stock
 * lenet_train_test.prototxt, the 20-iteration solver, Caffe's initial weights. Checks the per-iteration
 * losses (Caffe's 6 printed digits), the iteration-20 weights (1e-6 relative), the test lines before and
 * after (exactly Caffe's), the snapshot files, and that resuming from a snapshot continues exactly.
 */
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { blobData, readCaffemodelSync, readSolverPrototxtSync, readSolverStateSync } from "@deepspark/caffe"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Backend } from "../src/backend/backend.js"
import { createCpuBackend } from "../src/backend/cpu/cpu-backend.js"
import { referenceBackend } from "../src/backend/reference.js"
import type { Net } from "../src/net/net.js"
import { CapturingLogger } from "../src/train/logger.js"
import { compareWeights } from "./support/compare-weights.js"
import { mnistLenetFolder } from "./support/mnist-lenet-folder.js"
import { createTrainingSession, loadWeights, resumeFrom, type TrainingSession } from "../src/train/training-session.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const ref = path.join(repoRoot, "test/fixtures/caffe/reference/lenet-seed1701")
const solverFile = path.join(ref, "lenet_solver_20iter.prototxt")
const initModel = path.join(ref, "lenet_seed1701_iter_0_init.caffemodel")
const iter20Model = path.join(ref, "lenet_seed1701_iter_20.caffemodel")

/** Caffe's losses at iterations 0..20 (threads1 column; the three runs agree). */
const caffeLosses = (): number[] =>
  fs
    .readFileSync(path.join(ref, "seed1701_20iter_losses.csv"), "utf8")
    .split("\n")
    .filter((l) => /^\d+,/.test(l))
    .map((l) => Number(l.split(",")[3]))


let cwd = ""
let backend: Backend = referenceBackend

/** A Caffe-like working folder: examples/mnist/{lenet_train_test.prototxt, mnist_train_lmdb, mnist_test_lmdb}. */
beforeAll(async () => {
  cwd = await mnistLenetFolder("lenet-seed1701-")
  // The test runs on the fast backend when the runtime has WebAssembly SIMD (the reference backend
  // takes minutes for the two 10,000-image test passes); DEEPSPARK_BACKEND=reference forces the oracle,
  // DEEPSPARK_CPU_THREADS=N runs it with the threaded GEMM (which must not change a bit).
  if (process.env["DEEPSPARK_BACKEND"] !== "reference") {
    try {
      const threads = Number(process.env["DEEPSPARK_CPU_THREADS"] ?? 1)
      backend = await createCpuBackend({ threads })
    } catch {
      backend = referenceBackend
    }
  }
}, 120_000)

afterAll(async () => {
  await backend.dispose?.()
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true })
})

const paramValues = (net: Net): Float32Array[] => net.learnableParams().map((p) => p.blob.data.slice(0, p.blob.count))

const session = async (log: CapturingLogger, overrides: { maxIter?: number; noTests?: boolean } = {}): Promise<TrainingSession> => {
  let solverParam = readSolverPrototxtSync(solverFile)
  // The reference run wrote under seed/; here snapshots go to the working folder.
  solverParam = { ...solverParam, snapshot_prefix: path.join(cwd, "lenet_seed1701") }
  if (overrides.noTests) solverParam = { ...solverParam, test_initialization: false, test_interval: 1000 }
  return createTrainingSession({
    solverParam,
    cwd,
    backend,
    log,
    ...(overrides.maxIter !== undefined ? { maxIter: overrides.maxIter } : {})
  })
}

describe("LeNet, random_seed 1701, 20 iterations on MNIST (Caffe reference run)", () => {
  const log = new CapturingLogger()
  let trained: TrainingSession

  it("reproduces Caffe's per-iteration losses, test scores and iteration-20 weights", async () => {
    trained = await session(log)
    loadWeights(trained, [initModel], log)
    await trained.solver.solveAsync()
    await trained.close()

    const expected = caffeLosses()
    const losses = [...trained.solver.iterationLosses]
    const final = log.messages.find((m) => m.startsWith("Iteration 20, loss = "))
    losses.push(Number(final?.split(" = ")[1]))
    const report = losses.map((l, i) => `${i}: ${l.toPrecision(6)} vs ${expected[i]}`).join("\n")
    console.log(`backend ${backend.name}; losses (deepspark vs Caffe):\n${report}`)
    expect(losses.map((l) => l.toPrecision(6))).toEqual(expected.map((l) => l.toPrecision(6)))

    // Test scores: iteration 0 (test_initialization) and iteration 20 (test_interval 20).
    const tests = log.messages.filter((m) => m.startsWith("    Test net output"))
    expect(tests).toEqual([
      "    Test net output #0: accuracy = 0.071",
      "    Test net output #1: loss = 2.34813 (* 1 = 2.34813 loss)",
      "    Test net output #0: accuracy = 0.7528",
      "    Test net output #1: loss = 0.829852 (* 1 = 0.829852 loss)"
    ])
    console.log(tests.join("\n"))
    const after = trained.solver.meanScores[0]!
    expect(after[0]).toBeCloseTo(0.7528, 3)
    expect(after[1]).toBeCloseTo(0.829852, 3)

    // Iteration-20 weights vs Caffe's snapshot: max |Δ| / max |w| per blob.
    const caffe = readCaffemodelSync(iter20Model)
    const worst = compareWeights(trained.trainNet, caffe)
    console.log(`iteration-20 weights: worst relative difference ${worst.toExponential(3)}`)
    expect(worst).toBeLessThan(1e-6)
  }, 600_000)

  it("logs Caffe's lines in Caffe's order (as parse_log.py reads them)", () => {
    const lines = log.messages.filter((m) => !m.startsWith("Initializing solver") && !m.startsWith("Creating") && !m.startsWith("Finetuning"))
    expect(lines.slice(0, 6)).toEqual([
      "Solver scaffolding done.",
      "Solving LeNet",
      "Learning Rate Policy: inv",
      "Iteration 0, Testing net (#0)",
      "    Test net output #0: accuracy = 0.071",
      expect.stringMatching(/^ {4}Test net output #1: loss = /)
    ])
    expect(lines[6]).toMatch(/^Iteration 0 \(\S+ iter\/s, \S+s\/1 iters\), loss = 2\.328\d*$/)
    expect(lines[7]).toMatch(/^ {4}Train net output #0: loss = 2\.328\d* \(\* 1 = 2\.328\d* loss\)$/)
    expect(lines[8]).toBe("Iteration 0, lr = 0.01")
    expect(lines).toContain("Iteration 19, lr = 0.00998577")
    const tail = lines.slice(-7)
    expect(tail[0]).toBe(`Snapshotting to binary proto file ${path.join(cwd, "lenet_seed1701")}_iter_20.caffemodel`)
    expect(tail[1]).toBe(`Snapshotting solver state to binary proto file ${path.join(cwd, "lenet_seed1701")}_iter_20.solverstate`)
    expect(tail[2]).toMatch(/^Iteration 20, loss = 0\.84\d*$/)
    expect(tail[3]).toBe("Iteration 20, Testing net (#0)")
    expect(tail[tail.length - 1]).toBe("Optimization Done.")
  })

  it("the snapshot loads back bit-identically and its solverstate names it", () => {
    const model = `${path.join(cwd, "lenet_seed1701")}_iter_20.caffemodel`
    const saved = readCaffemodelSync(model)
    const byName = new Map((saved.layer ?? []).map((l) => [l.name, l]))
    for (const p of trained.trainNet.learnableParams()) {
      const layer = byName.get(p.layerName)!
      const index = trained.trainNet.layerByName(p.layerName)!.blobs.indexOf(p.blob)
      const data = blobData(layer.blobs![index]!)
      expect(Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(Buffer.from(p.blob.data.buffer, p.blob.data.byteOffset, p.blob.count * 4))).toBe(true)
    }
    const state = readSolverStateSync(`${path.join(cwd, "lenet_seed1701")}_iter_20.solverstate`)
    expect(state.iter).toBe(20)
    expect(state.learned_net).toBe(model)
    expect(state.current_step).toBe(0)
    expect(state.history?.map((h) => h.shape?.dim)).toEqual(trained.trainNet.learnableParams().map((p) => p.blob.shape))
  })

  it("resuming from an iteration-10 snapshot continues exactly like the uninterrupted run", async () => {
    // The uninterrupted run is the one above (its tests use their own nets and data cursors).
    const quiet = new CapturingLogger()
    const first = await session(quiet, { maxIter: 10, noTests: true })
    loadWeights(first, [initModel])
    await first.solver.solveAsync()
    await first.close()

    const resumed = await session(quiet, { noTests: true })
    resumeFrom(resumed, `${path.join(cwd, "lenet_seed1701")}_iter_10.solverstate`, quiet)
    expect(resumed.solver.iter).toBe(10)
    // Caffe restarts the database cursor on resume; skip the 10 batches the first run consumed so the
    // two runs see the same data.
    for (let i = 0; i < 10; i++) resumed.trainNet.forward()
    await resumed.solver.solveAsync()
    await resumed.close()
    expect(resumed.solver.iterationLosses).toEqual(trained.solver.iterationLosses.slice(10))
    const a = paramValues(resumed.trainNet)
    const b = paramValues(trained.trainNet)
    a.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true))
  }, 600_000)
})
