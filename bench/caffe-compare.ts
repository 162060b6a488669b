/**
 * `deepspark time` against real Caffe's `caffe time` on the same nets (Caffe's timing copies with
 * DummyData inputs: LeNet batch 64, CIFAR-10 quick batch 100), in alternating rounds so both see the
 * same machine load: each round runs `caffe time`, then `deepspark time` (cpu backend), each in a
 * process of its own, and parses their glog lines. Prints per-round forward+backward, the median ratio
 * and per-layer medians side by side (layers slower than Caffe's marked). On a loaded machine wall
 * times mostly measure the other tenants, so each round also runs both a second time with twice the
 * iterations and takes the difference of the processes' CPU time (bash `times`): CPU ms per
 * forward+backward without start-up — the steadier ratio there.
 *
 *   CAFFE_BIN=../shared/tools/caffe/caffe node bin/run-ts.mjs bench/caffe-compare.ts
 *   DEEPSPARK_BENCH_ROUNDS=3 DEEPSPARK_BENCH_ITERATIONS=30     rounds × iterations (CIFAR: a third)
 *   DEEPSPARK_BENCH_CPU_TIME=0                                  skip the CPU-time runs
 *   DEEPSPARK_BENCH_NETS=lenet,cifar10
 *   DEEPSPARK_BENCH_CPU_THREADS=2                               deepspark's threaded GEMM (a lone trainer's setting)
 *                                                               against Caffe's one OpenBLAS thread
 *   DEEPSPARK_BENCH_BASELINE_ENV="DEEPSPARK_CONV_BATCH_BYTES=0"  each round also times deepspark with these
 *                                                               variables (old vs new in the same rounds)
 *
 * Without CAFFE_BIN (a machine without Caffe) it times deepspark alone and prints the reference figures
 * measured against Caffe on a quiet machine of this class.
 */
import { spawnSync } from "node:child_process"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const timingDir = path.join(repoRoot, "test/fixtures/caffe/reference/timing")

const nets = [
  { id: "lenet", label: "LeNet, batch 64", file: "lenet_dummy.prototxt" },
  { id: "cifar10", label: "CIFAR-10 quick, batch 100", file: "cifar10_quick_dummy.prototxt" }
] as const

/**
 * Caffe BVLC (CPU_ONLY, OpenBLAS 0.3.21, one thread) vs deepspark before the kernels of this benchmark's
 * first version, one alternating run on a quiet machine (5 rounds × 30 iterations), fwd+bwd ms.
 */
const referenceFigures = [
  "LeNet, batch 64: Caffe 21.3–21.7 ms, deepspark 24.7–25.7 ms (1.17×)",
  "CIFAR-10 quick, batch 100: Caffe 181–191 ms, deepspark 230–248 ms (1.28×); per layer (deepspark vs Caffe):",
  "  conv2 fwd 35.0 vs 27.9, bwd 67.7 vs 54.9; conv3 fwd 17.0 vs 10.3, bwd 33.1 vs 20.2; DummyData 16.7 vs 1.4"
]

export interface TimeReport {
  readonly fwdBwdMs: number
  /** User + system CPU ms of the whole process (start-up included). */
  readonly cpuMs: number
  readonly layers: ReadonlyArray<{ readonly name: string; readonly forwardMs: number; readonly backwardMs: number }>
  /** Lines the run logged about its kernels (backend, convolution method). */
  readonly notes: ReadonlyArray<string>
}

/** Parses `caffe time` / `deepspark time` glog output (the same lines in both). */
export const parseTimeOutput = (text: string): TimeReport => {
  const layers = new Map<string, { name: string; forwardMs: number; backwardMs: number }>()
  let fwdBwdMs = Number.NaN
  const notes: string[] = []
  for (const line of text.split("\n")) {
    const layer = /\]\s+(\S+)\t(forward|backward): ([-\d.e+]+) ms\./.exec(line)
    if (layer) {
      const entry = layers.get(layer[1]!) ?? { name: layer[1]!, forwardMs: 0, backwardMs: 0 }
      entry[layer[2] === "forward" ? "forwardMs" : "backwardMs"] = Number(layer[3])
      layers.set(entry.name, entry)
      continue
    }
    const total = /Average Forward-Backward: ([-\d.e+]+) ms\./.exec(line)
    if (total) fwdBwdMs = Number(total[1])
    const note = /\] ((?:Use backend|Convolution) .*)$/.exec(line)
    if (note) notes.push(note[1]!)
  }
  if (Number.isNaN(fwdBwdMs)) throw new Error(`no "Average Forward-Backward" line in:\n${text.slice(-2000)}`)
  // bash `times`: the shell's, then its children's user and system time ("0m1.234s 0m0.100s").
  const times = [...text.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)]
  const children = times[times.length - 1]
  const cpuMs = children ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1000 : Number.NaN
  return { fwdBwdMs, cpuMs, layers: [...layers.values()], notes }
}

/** Runs the command under bash so that `times` reports its CPU time afterwards. */
const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): TimeReport => {
  const r = spawnSync("bash", ["-c", '"$0" "$@" && times', command, ...args], { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${(r.stderr ?? "").slice(-2000)}`)
  return parseTimeOutput(`${r.stdout}\n${r.stderr}`)
}

const caffeTime = (bin: string, model: string, iterations: number): TimeReport =>
  run(bin, ["time", "-model", model, "-iterations", String(iterations)], { ...process.env, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? "1" })

/** DEEPSPARK_BENCH_BASELINE_ENV ("NAME=value NAME=value"): the baseline deepspark run's extra variables. */
const baselineEnv = (): NodeJS.ProcessEnv | undefined => {
  const text = process.env["DEEPSPARK_BENCH_BASELINE_ENV"]
  if (!text) return undefined
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const pair of text.trim().split(/\s+/)) {
    const eq = pair.indexOf("=")
    if (eq <= 0) throw new Error(`DEEPSPARK_BENCH_BASELINE_ENV: '${pair}' is not NAME=value`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

const deepsparkTime = (model: string, iterations: number, env: NodeJS.ProcessEnv = process.env): TimeReport =>
  run(process.execPath, [
    path.join(repoRoot, "bin/deepspark.mjs"),
    "time",
    "--model",
    model,
    "--iterations",
    String(iterations),
    "--backend",
    "cpu",
    "--cpu-threads",
    process.env["DEEPSPARK_BENCH_CPU_THREADS"] ?? "1"
  ], env)

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2))

export async function benchCaffeCompare(): Promise<void> {
  const rounds = Number(process.env.DEEPSPARK_BENCH_ROUNDS ?? 3)
  const lenetIterations = Number(process.env.DEEPSPARK_BENCH_ITERATIONS ?? 30)
  const withCpuTime = process.env.DEEPSPARK_BENCH_CPU_TIME !== "0"
  const wanted = (process.env.DEEPSPARK_BENCH_NETS ?? "lenet,cifar10").split(",")
  const bin = process.env.CAFFE_BIN
  console.log(`caffe-compare: load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} CPUs; ${rounds} rounds`)
  if (!bin) {
    console.log("CAFFE_BIN is not set: timing deepspark alone. Reference figures against Caffe (quiet machine, one thread):")
    for (const l of referenceFigures) console.log(`  ${l}`)
  }
  for (const net of nets.filter((n) => wanted.includes(n.id))) {
    const model = path.join(timingDir, net.file)
    const iterations = net.id === "lenet" ? lenetIterations : Math.max(1, Math.round(lenetIterations / 3))
    const ours: TimeReport[] = []
    const theirs: TimeReport[] = []
    const oursCpu: number[] = []
    const theirsCpu: number[] = []
    const baseline = baselineEnv()
    const base: TimeReport[] = []
    for (let r = 0; r < rounds; r++) {
      if (bin) theirs.push(caffeTime(bin, model, iterations))
      ours.push(deepsparkTime(model, iterations))
      if (baseline) {
        base.push(deepsparkTime(model, iterations, baseline))
        console.log(
          `  ${net.label} round ${r + 1}: baseline (${process.env["DEEPSPARK_BENCH_BASELINE_ENV"]}) ${fmt(base[r]!.fwdBwdMs)} ms wall` +
            (theirs[r] ? ` → ${(base[r]!.fwdBwdMs / theirs[r]!.fwdBwdMs).toFixed(2)}× Caffe` : "") +
            `; deepspark/baseline ${(ours[r]!.fwdBwdMs / base[r]!.fwdBwdMs).toFixed(2)}×`
        )
      }
      // CPU ms per iteration: (CPU of a 2I-iteration run − CPU of the I-iteration run) / I.
      if (withCpuTime) {
        if (bin) theirsCpu.push((caffeTime(bin, model, 2 * iterations).cpuMs - theirs[r]!.cpuMs) / iterations)
        oursCpu.push((deepsparkTime(model, 2 * iterations).cpuMs - ours[r]!.cpuMs) / iterations)
      }
      const c = theirs[r]
      const cpuPart = withCpuTime
        ? `; CPU deepspark ${fmt(oursCpu[r]!)} ms` + (bin ? `, Caffe ${fmt(theirsCpu[r]!)} ms → ${(oursCpu[r]! / theirsCpu[r]!).toFixed(2)}×` : "")
        : ""
      console.log(
        `  ${net.label} round ${r + 1} (${iterations} iterations): wall deepspark ${fmt(ours[r]!.fwdBwdMs)} ms` +
          (c ? `, Caffe ${fmt(c.fwdBwdMs)} ms → ${(ours[r]!.fwdBwdMs / c.fwdBwdMs).toFixed(2)}×` : "") +
          `${cpuPart} (load ${os.loadavg()[0]!.toFixed(1)})`
      )
    }
    for (const note of ours[0]!.notes) console.log(`  deepspark: ${note}`)
    if (baseline) {
      const vsBase = ours.map((t, i) => t.fwdBwdMs / base[i]!.fwdBwdMs)
      console.log(
        `${net.label}: deepspark vs baseline wall per round ${Math.min(...vsBase).toFixed(2)}–${Math.max(...vsBase).toFixed(2)}×, median ${median(vsBase).toFixed(2)}×` +
          (theirs.length > 0 ? `; baseline vs Caffe median ${median(base.map((t, i) => t.fwdBwdMs / theirs[i]!.fwdBwdMs)).toFixed(2)}×` : "")
      )
      for (const layer of base[0]!.layers.filter((l) => l.name.startsWith("conv"))) {
        const pick = (ts: TimeReport[], key: "forwardMs" | "backwardMs") => median(ts.map((t) => t.layers.find((l) => l.name === layer.name)?.[key] ?? Number.NaN))
        console.log(`    ${layer.name.padEnd(8)} median fwd/bwd ms: deepspark ${fmt(pick(ours, "forwardMs"))}/${fmt(pick(ours, "backwardMs"))}, baseline ${fmt(pick(base, "forwardMs"))}/${fmt(pick(base, "backwardMs"))}`)
      }
    }
    const oursMedian = median(ours.map((t) => t.fwdBwdMs))
    if (theirs.length > 0) {
      const theirsMedian = median(theirs.map((t) => t.fwdBwdMs))
      const ratios = ours.map((t, i) => t.fwdBwdMs / theirs[i]!.fwdBwdMs)
      console.log(
        `${net.label}: wall fwd+bwd median deepspark ${fmt(oursMedian)} ms vs Caffe ${fmt(theirsMedian)} ms; ratio per round ` +
          `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×, median ${median(ratios).toFixed(2)}× (target ≤ 1.0×: ${median(ratios) <= 1 ? "met" : "NOT met"})`
      )
      if (withCpuTime) {
        const cpuRatios = oursCpu.map((o, i) => o / theirsCpu[i]!)
        console.log(
          `${net.label}: CPU ms per fwd+bwd median deepspark ${fmt(median(oursCpu))} vs Caffe ${fmt(median(theirsCpu))}; ratio per round ` +
            `${Math.min(...cpuRatios).toFixed(2)}–${Math.max(...cpuRatios).toFixed(2)}×, median ${median(cpuRatios).toFixed(2)}×`
        )
      }
      console.log("  per layer, median ms fwd/bwd: deepspark | Caffe (* = deepspark slower by > 10 % and > 0.1 ms)")
      for (const layer of ours[0]!.layers) {
        const pick = (ts: TimeReport[], key: "forwardMs" | "backwardMs") => median(ts.map((t) => t.layers.find((l) => l.name === layer.name)?.[key] ?? Number.NaN))
        const [of, ob, cf, cb] = [pick(ours, "forwardMs"), pick(ours, "backwardMs"), pick(theirs, "forwardMs"), pick(theirs, "backwardMs")]
        const slower = (o: number, c: number) => (o > c * 1.1 && o - c > 0.1 ? "*" : " ")
        console.log(`    ${layer.name.padEnd(8)} ${fmt(of).padStart(6)}${slower(of, cf)}/${fmt(ob).padStart(6)}${slower(ob, cb)} | ${fmt(cf).padStart(6)}/${fmt(cb).padStart(6)}`)
      }
    } else {
      console.log(`${net.label}: fwd+bwd median deepspark ${fmt(oursMedian)} ms wall` + (withCpuTime ? `, ${fmt(median(oursCpu))} ms CPU` : ""))
      console.log(`  per layer, median ms fwd/bwd: ${ours[0]!.layers.map((l) => `${l.name} ${fmt(median(ours.map((t) => t.layers.find((x) => x.name === l.name)!.forwardMs)))}/${fmt(median(ours.map((t) => t.layers.find((x) => x.name === l.name)!.backwardMs)))}`).join(", ")}`)
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchCaffeCompare()
