/**
 * Peak RSS of a lone LeNet trainer (target ≤ 300 MB): a child process runs `deepspark train -solver
 * examples/mnist/lenet_solver.prototxt -iterations N` (the CLI's own code path, in-process, output
 * dropped) on the real MNIST LMDBs with the default cpu backend — Caffe's train net and test net, the
 * test pass at iteration 0, N iterations (default 200), the final snapshot — and reports
 * process.resourceUsage().maxRSS at the end, with what the memory holds then (V8's heap, external /
 * ArrayBuffer memory; the rest is code, the kernels' wasm memory and Node itself). A second child that only loads the engine and data code
 * and compiles the kernels gives the fixed cost of Node and the code.
 *
 *   node bin/run-ts.mjs bench/trainer-rss.ts          (or import { benchTrainerRss })
 *   DEEPSPARK_BENCH_RSS_ITERS=200 …                   iterations of the trainer
 */
import { spawnSync } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { runningFromBuild } from "../src/launch/entry-points.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const targetMb = 300

export interface ChildReport {
  readonly mode: "trainer" | "modules"
  readonly iterations: number
  readonly maxRssMb: number
  readonly rssMb: number
  readonly heapUsedMb: number
  readonly heapTotalMb: number
  readonly externalMb: number
  readonly arrayBuffersMb: number
  readonly seconds: number
}

const mb = (bytes: number): number => bytes / (1 << 20)

/** Runs in the child: trains through the CLI (or only loads the code), then prints one JSON line. */
const child = async (mode: "trainer" | "modules", dir: string, iterations: number): Promise<void> => {
  const started = performance.now()
  let done = 0
  if (mode === "trainer") {
    const { runCli } = await import("../src/cli/run-cli.js")
    const lines: string[] = []
    const code = await runCli(["train", "-solver", "examples/mnist/lenet_solver.prototxt", "-iterations", String(iterations)], {
      stdout: () => {},
      stderr: (line) => void lines.push(line),
      cwd: dir
    })
    if (code !== 0) throw new Error(`deepspark train exited with ${code}:\n${lines.slice(-5).join("\n")}`)
    if (!lines.some((l) => l.endsWith("Optimization Done."))) throw new Error(`deepspark train did not finish:\n${lines.slice(-5).join("\n")}`)
    done = iterations
  } else {
    const { createCpuBackend } = await import("../packages/engine/src/backend/cpu/cpu-backend.js")
    await import("../packages/engine/src/train/training-session.js")
    await import("@deepspark/data")
    await createCpuBackend()
  }
  const m = process.memoryUsage()
  const report: ChildReport = {
    mode,
    iterations: done,
    // maxRSS is in KiB.
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
    arrayBuffersMb: mb(m.arrayBuffers),
    seconds: (performance.now() - started) / 1000
  }
  console.log(JSON.stringify(report))
}

export const runChild = (mode: "trainer" | "modules", dir: string, iterations: number): ChildReport => {
  // Built (npm run bench): this very file is plain JavaScript and runs as it is; from the sources, via tsx.
  const self = runningFromBuild ? [fileURLToPath(import.meta.url)] : [path.join(repoRoot, "bin/run-ts.mjs"), fileURLToPath(import.meta.url)]
  const out = spawnSync(process.execPath, [...self, "--child", mode, dir, String(iterations)], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 << 20
  })
  const line = out.stdout.trim().split("\n").pop() ?? ""
  if (out.status !== 0 || !line.startsWith("{")) throw new Error(`trainer-rss child (${mode}) failed (status ${out.status}):\n${out.stderr}`)
  return JSON.parse(line) as ChildReport
}

const describe = (r: ChildReport): string =>
  `peak RSS ${r.maxRssMb.toFixed(0)} MB (at the end: RSS ${r.rssMb.toFixed(0)} MB, ` +
  `V8 heap ${r.heapUsedMb.toFixed(0)}/${r.heapTotalMb.toFixed(0)} MB, external ${r.externalMb.toFixed(0)} MB of which ArrayBuffers ${r.arrayBuffersMb.toFixed(0)} MB), ${r.seconds.toFixed(1)} s`

/** Caffe's MNIST example folder: the LeNet prototxts and the full MNIST as convert_mnist_data writes it. */
export const mnistFolder = async (): Promise<string> => {
  const { convertMnist, mnistPackageFiles } = await import("@deepspark/data")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-trainer-rss-"))
  const mnist = path.join(dir, "examples/mnist")
  fs.mkdirSync(mnist, { recursive: true })
  for (const f of ["lenet_train_test.prototxt", "lenet_solver.prototxt"]) fs.copyFileSync(path.join(repoRoot, "examples/mnist", f), path.join(mnist, f))
  const files = mnistPackageFiles()
  await convertMnist(files.trainImages, files.trainLabels, path.join(mnist, "mnist_train_lmdb"))
  await convertMnist(files.testImages, files.testLabels, path.join(mnist, "mnist_test_lmdb"))
  return dir
}

export async function benchTrainerRss(): Promise<void> {
  const dir = await mnistFolder()
  try {
    const iterations = Number(process.env.DEEPSPARK_BENCH_RSS_ITERS ?? 200)
    const modules = runChild("modules", dir, 0)
    const trainer = runChild("trainer", dir, iterations)
    console.log(`modules only (Node + engine/data code + compiled kernels): ${describe(modules)}`)
    console.log(`lone LeNet trainer (deepspark train, cpu backend, train + test nets on MNIST, ${trainer.iterations} iterations): ${describe(trainer)}`)
    console.log(`→ peak RSS ${trainer.maxRssMb.toFixed(0)} MB vs target ≤ ${targetMb} MB: ${trainer.maxRssMb <= targetMb ? "met" : "NOT met"}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const args = process.argv.slice(2)
if (args[0] === "--child") await child(args[1] as "trainer" | "modules", args[2]!, Number(args[3]))
else if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchTrainerRss()
