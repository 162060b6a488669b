/**
 * A training iteration's steady state allocates nothing and copies nothing behind the layers' backs, on
 * the `cpu` backend (blobs live in the kernels' wasm memory): Caffe's LeNet on real MNIST and Caffe's
 * CIFAR-10 quick (its own train/test prototxt with the mean file) on a small synthetic CIFAR set, each
 * run through the real Solver (Data layers over LMDB, test passes, display lines), warmed up, then
 * watched for N more iterations:
 *
 * - the engine's allocation stats (blob storage, layer buffers, kernel scratch, wasm memory growth,
 *   kernel arguments staged through scratch) record nothing, and the wasm memory keeps its size;
 * - a census of every typed array / ArrayBuffer / Buffer created anywhere finds none, except the LMDB
 *   reader's page chunks (disk reads: one 256 KiB chunk per 64 database pages consumed).
 */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { readSolverPrototxtSync, type SolverParameter } from "@deepspark/caffe"
import { CIFAR_RECORD_SIZE, computeMeanFile, convertCifarBatches, createDatumDb, encodeDatum, formatInt, mnistPackageFiles, readIdxPair } from "@deepspark/data"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createCpuBackend, type CpuBackend } from "../src/backend/cpu/cpu-backend.js"
import { allocationStats, type AllocationEvent } from "../src/core/allocation-stats.js"
import { startTypedArrayCensus, type CensusEvent } from "../src/testing/typed-array-census.js"
import { createTrainingSession } from "../src/train/training-session.js"
import type { Solver } from "../src/train/solver.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
// Caffe's own files: LeNet's in the repository's examples/mnist, CIFAR-10 quick's in test/fixtures.
const caffeMnist = path.join(repoRoot, "examples/mnist")
const caffeCifar10 = path.join(repoRoot, "test/fixtures/caffe/examples/cifar10")

let cwd = ""
let backend: CpuBackend

beforeAll(async () => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "steady-state-"))
  backend = await createCpuBackend()
  await writeMnistSubset()
  await writeSyntheticCifar()
}, 120_000)

afterAll(() => {
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true })
})

/** The first 1,000 training and 300 test images of MNIST, as convert_mnist_data writes them. */
const writeMnistSubset = async (): Promise<void> => {
  const dir = path.join(cwd, "examples/mnist")
  fs.mkdirSync(dir, { recursive: true })
  for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt"]) fs.copyFileSync(path.join(caffeMnist, f), path.join(dir, f))
  const files = mnistPackageFiles()
  const write = async (images: string, labels: string, out: string, n: number) => {
    const pair = readIdxPair(images, labels)
    const size = pair.images.rows * pair.images.cols
    const db = await createDatumDb(path.join(dir, out), "lmdb")
    for (let i = 0; i < n; i++) {
      const data = pair.images.pixels.subarray(i * size, (i + 1) * size)
      await db.put(formatInt(i, 8), encodeDatum({ channels: 1, height: pair.images.rows, width: pair.images.cols, data, label: pair.labels.labels[i]! }))
    }
    await db.close()
  }
  await write(files.trainImages, files.trainLabels, "mnist_train_lmdb", 1000)
  await write(files.testImages, files.testLabels, "mnist_test_lmdb", 300)
}

/** 400 training and 200 test records in CIFAR-10's binary format, converted and averaged as Caffe's tools do. */
const writeSyntheticCifar = async (): Promise<void> => {
  const dir = path.join(cwd, "examples/cifar10")
  fs.mkdirSync(dir, { recursive: true })
  for (const f of ["cifar10_quick_train_test.prototxt", "cifar10_quick_solver.prototxt"]) fs.copyFileSync(path.join(caffeCifar10, f), path.join(dir, f))
  const batch = (first: number, n: number): string => {
    const bytes = new Uint8Array(n * CIFAR_RECORD_SIZE)
    let seed = first + 1
    for (let i = 0; i < n; i++) {
      const at = i * CIFAR_RECORD_SIZE
      bytes[at] = (first + i) % 10
      for (let j = 1; j < CIFAR_RECORD_SIZE; j++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
        bytes[at + j] = seed >>> 24
      }
    }
    const file = path.join(cwd, `cifar_${first}.bin`)
    fs.writeFileSync(file, bytes)
    return file
  }
  await convertCifarBatches([batch(0, 400)], path.join(dir, "cifar10_train_lmdb"))
  await convertCifarBatches([batch(1000, 200)], path.join(dir, "cifar10_test_lmdb"))
  await computeMeanFile(path.join(dir, "cifar10_train_lmdb"), path.join(dir, "mean.binaryproto"))
}

/** Caffe's solver file with tests and display inside the watched window and no snapshots. */
const solverFrom = (file: string, changes: Partial<SolverParameter>): SolverParameter => ({
  ...readSolverPrototxtSync(path.join(cwd, file)),
  snapshot: 0,
  snapshot_after_train: false,
  max_iter: 1_000_000,
  ...changes
})

/** Iterations one at a time with a turn of the event loop between them, as solveAsync runs them (the Data layers' read-ahead refills there). */
const steps = async (solver: Solver, n: number): Promise<void> => {
  for (let i = 0; i < n; i++) {
    solver.step(1)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}

interface Watched {
  readonly engine: ReadonlyArray<AllocationEvent>
  readonly census: ReadonlyArray<CensusEvent>
  readonly memoryBefore: number
  readonly memoryAfter: number
  readonly iterations: number
}

const watchTraining = async (solverParam: SolverParameter, warmUp: number, watched: number): Promise<Watched> => {
  const session = await createTrainingSession({ solverParam, cwd, backend })
  try {
    await steps(session.solver, warmUp)
    const memory = backend.kernels.heap.memory
    const memoryBefore = memory.buffer.byteLength
    const start = session.solver.iter
    allocationStats.start()
    const census = startTypedArrayCensus()
    let censusEvents: ReadonlyArray<CensusEvent>
    let engine: ReadonlyArray<AllocationEvent>
    try {
      await steps(session.solver, watched)
    } finally {
      censusEvents = census.stop()
      engine = allocationStats.stop()
    }
    return { engine, census: censusEvents, memoryBefore, memoryAfter: memory.buffer.byteLength, iterations: session.solver.iter - start }
  } finally {
    await session.close()
  }
}

/** Disk reads of the LMDB reader's page cache: the one allocation the Data layer's feed keeps. */
const isLmdbChunkRead = (e: CensusEvent): boolean => e.type === "Buffer.allocUnsafe" && e.site.includes("PageFile.chunk")
/** The test runner decoding a module's source map the first time a stack trace (the census's own) passes through it. */
const isRunnerSourceMap = (e: CensusEvent): boolean => e.site.includes("/vite-node/")

/** One line per event ("" when none), so a failure names each culprit. */
const lines = (events: ReadonlyArray<{ readonly bytes: number; readonly site: string }>, kind: (i: number) => string): string =>
  events.map((e, i) => `${kind(i)} ${e.bytes} bytes at ${e.site}`).join("\n")

const expectSteadyState = (w: Watched): void => {
  const chunks = w.census.filter(isLmdbChunkRead)
  const others = w.census.filter((e) => !isLmdbChunkRead(e) && !isRunnerSourceMap(e))
  console.log(
    `${w.iterations} iterations watched: ${w.engine.length} engine allocations / staged copies, ${others.length} other typed arrays, ` +
      `${chunks.length} LMDB page chunks read (${chunks.reduce((s, e) => s + e.bytes, 0)} bytes); wasm memory ${w.memoryBefore} → ${w.memoryAfter} bytes`
  )
  expect(w.iterations).toBeGreaterThan(0)
  expect(lines(w.engine, (i) => w.engine[i]!.kind)).toBe("")
  expect(lines(others, (i) => others[i]!.type)).toBe("")
  expect(w.memoryAfter).toBe(w.memoryBefore)
}

describe("steady-state training on the cpu backend allocates nothing and stages no copies", () => {
  it("Caffe's LeNet on MNIST: 30 iterations with test passes and display lines, after a warm-up with a test pass", async () => {
    const w = await watchTraining(solverFrom("examples/mnist/lenet_solver.prototxt", { test_iter: [2], test_interval: 10, display: 5 }), 12, 30)
    expectSteadyState(w)
  }, 120_000)

  it("Caffe's CIFAR-10 quick (mean file, batch 100): 4 iterations with test passes, after a warm-up with a test pass", async () => {
    const w = await watchTraining(solverFrom("examples/cifar10/cifar10_quick_solver.prototxt", { test_iter: [1], test_interval: 2, display: 2 }), 3, 4)
    expectSteadyState(w)
  }, 120_000)

  it("the allocation stats see what the steady state avoids: a growing reshape, a kernel argument outside the heap", () => {
    allocationStats.start()
    const inHeap = backend.allocator.allocFloat32(1000)
    backend.axpy(1000, 2, new Float32Array(1000), 0, inHeap, 0)
    const events = allocationStats.stop()
    // The blob's block, maybe a scratch block for the staged argument, then the copy itself.
    expect(events[0]!.kind).toBe("wasm-block")
    const staged = events.filter((e) => e.kind === "staged-copy")
    expect(staged.map((e) => e.bytes)).toEqual([4000])
    expect(staged[0]!.site).toMatch(/axpy/)
    const census = startTypedArrayCensus()
    const made = new Float32Array(16)
    const view = new Float32Array(made.buffer, 0, 4)
    made.slice(0, 8)
    const seen = census.stop().filter((e) => !isRunnerSourceMap(e))
    expect(view.length).toBe(4)
    expect(seen.map((e) => `${e.type} ${e.bytes}`)).toEqual(["Float32Array 64", "Float32Array.slice 32"])
    expect(new Float32Array(1)).toBeInstanceOf(Float32Array)
  })
})
