/**
 * `npm run bench startup`: what starting deepspark costs, against the same-run cost of `node -e 0`.
 *
 * - `deepspark --help` and `deepspark inspect examples/mnist/lenet.prototxt` from the build (median of
 *   5 runs each), and `inspect` from the TypeScript sources through tsx (`npm run dev`, median of 3) for
 *   comparison;
 * - a local 2-worker run on real MNIST (`deepspark train -solver lenet_solver.prototxt --workers 2
 *   --period 1` in a Caffe-like folder): seconds from the command's start to its first exchange, i.e.
 *   to a worker thread having started, built its net, pulled x̃, trained one iteration and exchanged
 *   (median of 3);
 * - peak RSS of a lone LeNet trainer (`deepspark train`, 200 iterations; bench/trainer-rss.ts).
 * Targets: inspect ≤ 0.5 s (median, quiet machine), first exchange ≤ 3 s, lone trainer ≤ 200 MB.
 */
import { spawn, spawnSync } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { mnistFolder, runChild } from "./trainer-rss.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const cli = path.join(repoRoot, "bin/deepspark.mjs")

const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Wall seconds of one run of a command to its exit (which must be 0). */
const timeCommand = (args: ReadonlyArray<string>, cwd = repoRoot): number => {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 })
  const seconds = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited with ${r.status}:\n${r.stderr}`)
  return seconds
}

const medianOf = (runs: number, args: ReadonlyArray<string>): number => median(Array.from({ length: runs }, () => timeCommand(args)))

/** Seconds from spawning `deepspark train … --workers 2 --period 1` to its first "Exchange 1 " log line. */
const timeToFirstExchange = (dir: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [cli, "train", "-solver", "examples/mnist/lenet_solver.prototxt", "--workers", "2", "--period", "1"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let seen = ""
    let done = false
    const watch = (b: Buffer) => {
      seen += b.toString()
      if (!done && /Exchange 1 \(/.test(seen)) {
        done = true
        resolve((performance.now() - t0) / 1000)
        child.kill("SIGKILL")
      }
      if (seen.length > 1 << 20) seen = seen.slice(-4096)
    }
    child.stdout.on("data", watch)
    child.stderr.on("data", watch)
    child.on("exit", (code) => {
      if (!done) reject(new Error(`deepspark train --workers 2 exited (${code}) before its first exchange:\n${seen.slice(-2000)}`))
    })
  })

export async function benchStartup(): Promise<void> {
  if (!fs.existsSync(path.join(repoRoot, "dist/deepspark.js"))) throw new Error("bench startup: dist/ is missing; run npm run build")
  const load = os.loadavg().map((l) => l.toFixed(1)).join(" ")
  console.log(`machine: ${os.cpus().length} cores, load average ${load}`)
  const node = medianOf(5, ["-e", "0"])
  const help = medianOf(5, [cli, "--help"])
  const inspect = medianOf(5, [cli, "inspect", "examples/mnist/lenet.prototxt"])
  const inspectTsx = medianOf(3, [path.join(repoRoot, "bin/run-ts.mjs"), "src/cli/main.ts", "inspect", "examples/mnist/lenet.prototxt"])
  const row = (what: string, s: number, target?: number) =>
    console.log(
      `${what.padEnd(58)} ${s.toFixed(3).padStart(7)} s  ${(s / node).toFixed(1).padStart(5)}× node -e 0` +
        (target === undefined ? "" : `   target ≤ ${target} s: ${s <= target ? "met" : "NOT met"}`)
    )
  row("node -e 0 (median of 5)", node)
  row("deepspark --help (median of 5)", help)
  row("deepspark inspect lenet.prototxt (median of 5)", inspect, 0.5)
  row("inspect from the sources through tsx (npm run dev, median of 3)", inspectTsx)

  const dir = await mnistFolder()
  try {
    const firsts: number[] = []
    for (let i = 0; i < 3; i++) firsts.push(await timeToFirstExchange(dir))
    row(`2-worker run: start → first exchange (${firsts.map((s) => s.toFixed(2)).join(", ")} s)`, median(firsts), 3)
    const trainer = runChild("trainer", dir, 200)
    console.log(
      `${"lone LeNet trainer, peak RSS (deepspark train, 200 iterations)".padEnd(58)} ${trainer.maxRssMb.toFixed(0).padStart(7)} MB` +
        `   target ≤ 200 MB: ${trainer.maxRssMb <= 200 ? "met" : "NOT met"}`
    )
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`)
}
