/**
 * Training-iteration benchmark on Caffe's timing nets (DummyData inputs, as `caffe time` uses):
 * LeNet (batch 64) and CIFAR-10 quick (batch 100), one iteration = forward + backward + an SGD update
 * (momentum 0.9, weight decay 5e-4, done with backend.axpy), on each engine backend — reference, cpu
 * (wasm SIMD), gpu (gpu.js) — plus TensorFlow.js 4.22's wasm backend on the same LeNet, in one run.
 * Prints ms/iter (best and median wall time, and process CPU time), images/s, the per-layer
 * forward/backward split, peak RSS, and the ratios the targets are stated in; then the peak RSS of a
 * lone LeNet trainer in a process of its own (bench/trainer-rss.ts, target ≤ 300 MB).
 *
 *   node bin/run-ts.mjs bench/lenet.ts            (or import { benchLenet })
 *   DEEPSPARK_BENCH_BACKENDS=cpu,gpu              which engine backends (default reference,cpu,gpu)
 *   DEEPSPARK_BENCH_NETS=lenet                    which nets (default lenet,cifar10)
 *   DEEPSPARK_BENCH_TFJS=0                        skip TensorFlow.js
 *   DEEPSPARK_BENCH_SECONDS=6                     time budget per (backend, net) after warm-up
 *   DEEPSPARK_GPU_MODE=webasm|headlessgl|auto     gpu.js backend for `gpu` (default auto)
 *   DEEPSPARK_BENCH_RSS=0                         skip the lone trainer's peak RSS (bench/trainer-rss.ts)
 *   CAFFE_BIN=…/caffe                             then `deepspark time` vs `caffe time` alternately
 *   DEEPSPARK_BENCH_CAFFE=0                       skip that comparison (bench/caffe-compare.ts)
 */
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { readNetPrototxtSync } from "@deepspark/caffe"
import { type Backend, type Layer, Net, referenceBackend } from "@deepspark/engine"
import { createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"
import { createGpuBackend } from "../packages/engine/src/backend/gpu/gpu-backend.js"
import type { GpuJsModeRequest } from "../packages/engine/src/backend/gpu/gpujs-runtime.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
// The nets behind Caffe's published `caffe time` figures (Data layers replaced by DummyData).
const timingDir = path.join(repoRoot, "test/fixtures/caffe/reference/timing")

interface NetCase {
  readonly id: string
  readonly label: string
  readonly file: string
  readonly batch: number
}
const nets: ReadonlyArray<NetCase> = [
  { id: "lenet", label: "LeNet", file: "lenet_dummy.prototxt", batch: 64 },
  { id: "cifar10", label: "CIFAR-10 quick", file: "cifar10_quick_dummy.prototxt", batch: 100 }
]

export interface IterationTiming {
  readonly backend: string
  readonly net: string
  readonly batch: number
  readonly iterations: number
  readonly bestMs: number
  readonly medianMs: number
  /** Process CPU time per iteration (median): the steadier figure on a shared machine. */
  readonly cpuMs: number
  readonly loss: number
  /** Per layer: median forward and backward wall ms per iteration. */
  readonly layers: ReadonlyArray<{ readonly name: string; readonly forwardMs: number; readonly backwardMs: number }>
  readonly peakRssMb: number
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024

/**
 * Wraps each layer's forward/backward (instance properties shadow the methods) to record wall time per
 * iteration; `next()` starts a new iteration. Medians per layer resist the load spikes of a shared box.
 */
const instrument = (net: Net) => {
  const perIteration: Array<Array<{ forward: number; backward: number }>> = []
  let current = net.layers.map(() => ({ forward: 0, backward: 0 }))
  net.layers.forEach((layer: Layer, i) => {
    const forward = layer.forward.bind(layer)
    const backward = layer.backward.bind(layer)
    layer.forward = (bottom, top) => {
      const t = performance.now()
      forward(bottom, top)
      current[i]!.forward += performance.now() - t
    }
    layer.backward = (top, down, bottom) => {
      const t = performance.now()
      backward(top, down, bottom)
      current[i]!.backward += performance.now() - t
    }
  })
  return {
    next: () => {
      current = net.layers.map(() => ({ forward: 0, backward: 0 }))
      perIteration.push(current)
    },
    medians: () =>
      net.layerNames.map((name, i) => ({
        name,
        forwardMs: median(perIteration.map((it) => it[i]!.forward)),
        backwardMs: median(perIteration.map((it) => it[i]!.backward))
      }))
  }
}

/** Runs training iterations on `backend` for about `seconds` (at least 2 timed, after 1 warm-up). */
export const timeTraining = (backend: Backend, netCase: NetCase, seconds: number): IterationTiming => {
  const net = new Net(readNetPrototxtSync(path.join(timingDir, netCase.file)), { state: { phase: "TRAIN" }, backend })
  const params = net.learnableParams()
  const history = params.map((p) => backend.allocator.allocFloat32(p.blob.count))
  const [lr, momentum, decay] = [0.01, 0.9, 5e-4]
  const step = (): number => {
    net.clearParamDiffs()
    const loss = net.forwardBackward()
    // Caffe's SGD: diff += decay·w; h = momentum·h + lr·diff; w −= h.
    params.forEach((p, i) => {
      const h = history[i]!
      const n = p.blob.count
      backend.axpy(n, decay * p.decayMult, p.blob.data, 0, p.blob.diff, 0)
      for (let j = 0; j < n; j++) h[j] = h[j]! * momentum
      backend.axpy(n, lr * p.lrMult, p.blob.diff, 0, h, 0)
      backend.axpy(n, -1, h, 0, p.blob.data, 0)
    })
    return loss
  }
  const t0 = performance.now()
  step() // set-up, kernel compilation, JIT warm-up
  const warmMs = performance.now() - t0
  const layerTimes = instrument(net)
  const iterations = Math.max(2, Math.min(50, Math.floor((seconds * 1000) / Math.max(warmMs, 1))))
  const wall: number[] = []
  const cpu: number[] = []
  let loss = 0
  for (let i = 0; i < iterations; i++) {
    layerTimes.next()
    const c = process.cpuUsage()
    const t = performance.now()
    loss = step()
    wall.push(performance.now() - t)
    const u = process.cpuUsage(c)
    cpu.push((u.user + u.system) / 1000)
  }
  return {
    backend: backend.name,
    net: netCase.label,
    batch: netCase.batch,
    iterations,
    bestMs: Math.min(...wall),
    medianMs: median(wall),
    cpuMs: median(cpu),
    loss,
    layers: layerTimes.medians(),
    peakRssMb: peakRssMb()
  }
}

export interface TfjsTiming {
  readonly what: string
  readonly iterations: number
  readonly bestMs: number
  readonly medianMs: number
  readonly cpuMs: number
  readonly loss: number
}

/**
 * The same LeNet (conv 20@5×5 → max 2 → conv 50@5×5 → max 2 → fc 500 → ReLU → fc 10 → softmax loss,
 * batch 64, SGD momentum 0.9) as a full TensorFlow.js training step on the wasm backend (one thread).
 * tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter, so the convolutions carry a custom gradient:
 * input gradient = conv2dTranspose (Conv2DBackpropInput, registered), filter gradient = a Conv2D of the
 * transposed input with the transposed output gradient (x as [Cin,H,W,N] ⊛ dy as [OH,OW,N,Cout]).
 * conv1 skips its input gradient, as Caffe does.
 */
export const timeTfjsLenet = async (seconds: number): Promise<TfjsTiming> => {
  const tf = await import("@tensorflow/tfjs")
  const wasm = await import("@tensorflow/tfjs-backend-wasm")
  wasm.setThreadsCount(1)
  if (!(await tf.setBackend("wasm"))) throw new Error("TensorFlow.js wasm backend did not initialise")
  const batch = 64
  const filterGrad = (x: import("@tensorflow/tfjs").Tensor4D, dy: import("@tensorflow/tfjs").Tensor4D) =>
    tf.transpose(tf.conv2d(tf.transpose(x, [3, 1, 2, 0]) as typeof x, tf.transpose(dy, [1, 2, 0, 3]) as typeof x, 1, "valid"), [1, 2, 0, 3])
  const conv = (needInputGrad: boolean) =>
    tf.customGrad(((x: import("@tensorflow/tfjs").Tensor4D, w: import("@tensorflow/tfjs").Tensor4D, save: (ts: import("@tensorflow/tfjs").Tensor[]) => void) => {
      save([x, w])
      return {
        value: tf.conv2d(x, w, 1, "valid"),
        gradFunc: (dy: import("@tensorflow/tfjs").Tensor4D, saved: import("@tensorflow/tfjs").Tensor[]) => {
          const [sx, sw] = saved as [typeof x, typeof w]
          return [needInputGrad ? tf.conv2dTranspose(dy, sw, sx.shape, 1, "valid") : tf.zerosLike(sx), filterGrad(sx, dy)]
        }
      }
    }) as never) as unknown as (x: import("@tensorflow/tfjs").Tensor4D, w: import("@tensorflow/tfjs").Tensor4D) => import("@tensorflow/tfjs").Tensor4D
  const conv1 = conv(false)
  const conv2 = conv(true)
  const glorot = (shape: number[], fanIn: number, fanOut: number) => tf.variable(tf.randomUniform(shape, -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut))))
  const w1 = glorot([5, 5, 1, 20], 25, 500)
  const b1 = tf.variable(tf.zeros([20]))
  const w2 = glorot([5, 5, 20, 50], 500, 1250)
  const b2 = tf.variable(tf.zeros([50]))
  const w3 = glorot([800, 500], 800, 500)
  const b3 = tf.variable(tf.zeros([500]))
  const w4 = glorot([500, 10], 500, 10)
  const b4 = tf.variable(tf.zeros([10]))
  const x = tf.randomUniform([batch, 28, 28, 1]) as import("@tensorflow/tfjs").Tensor4D
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), "int32"), 10)
  const optimizer = tf.train.momentum(0.01, 0.9)
  const step = (): number => {
    const cost = optimizer.minimize(() => {
      const c1 = tf.add(conv1(x, w1 as never), b1) as import("@tensorflow/tfjs").Tensor4D
      const p1 = tf.maxPool(c1, 2, 2, "valid")
      const c2 = tf.add(conv2(p1, w2 as never), b2) as import("@tensorflow/tfjs").Tensor4D
      const p2 = tf.maxPool(c2, 2, 2, "valid")
      const f1 = tf.relu(tf.add(tf.matMul(tf.reshape(p2, [batch, 800]), w3), b3))
      const logits = tf.add(tf.matMul(f1, w4), b4)
      return tf.losses.softmaxCrossEntropy(labels, logits) as import("@tensorflow/tfjs").Scalar
    }, true)!
    const loss = cost.dataSync()[0]!
    cost.dispose()
    return loss
  }
  const t0 = performance.now()
  step()
  const warmMs = performance.now() - t0
  const iterations = Math.max(2, Math.min(50, Math.floor((seconds * 1000) / Math.max(warmMs, 1))))
  const wall: number[] = []
  const cpu: number[] = []
  let loss = 0
  for (let i = 0; i < iterations; i++) {
    const c = process.cpuUsage()
    const t = performance.now()
    loss = step()
    wall.push(performance.now() - t)
    const u = process.cpuUsage(c)
    cpu.push((u.user + u.system) / 1000)
  }
  return {
    what: "full training step (forward, backward incl. hand-added Conv2D filter gradient, momentum SGD), wasm backend, 1 thread",
    iterations,
    bestMs: Math.min(...wall),
    medianMs: median(wall),
    cpuMs: median(cpu),
    loss
  }
}

const makeBackend = async (name: string): Promise<Backend> => {
  if (name === "reference") return referenceBackend
  if (name === "cpu") return createCpuBackend()
  if (name === "gpu") return createGpuBackend({ mode: (process.env["DEEPSPARK_GPU_MODE"] ?? "auto") as GpuJsModeRequest })
  throw new Error(`bench/lenet.ts: unknown backend '${name}' (known: reference, cpu, gpu)`)
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1))

const printTiming = (t: IterationTiming): void => {
  console.log(
    `  ${t.backend.padEnd(9)} ${t.net}: best ${fmt(t.bestMs)} ms, median ${fmt(t.medianMs)} ms/iter (CPU ${fmt(t.cpuMs)} ms), ` +
      `${((t.batch * 1000) / t.medianMs).toFixed(0)} images/s, ${t.iterations} iterations, loss ${t.loss.toFixed(3)}, peak RSS so far ${t.peakRssMb.toFixed(0)} MB`
  )
  const fwd = t.layers.reduce((s, l) => s + l.forwardMs, 0)
  const bwd = t.layers.reduce((s, l) => s + l.backwardMs, 0)
  console.log(`    per-layer medians (wall): forward ${fmt(fwd)} ms, backward ${fmt(bwd)} ms; fwd/bwd ms:`)
  console.log("    " + t.layers.map((l) => `${l.name} ${fmt(l.forwardMs)}/${fmt(l.backwardMs)}`).join(", "))
}

export async function benchLenet(): Promise<void> {
  const backends = (process.env["DEEPSPARK_BENCH_BACKENDS"] ?? "reference,cpu,gpu").split(",").filter(Boolean)
  const netIds = (process.env["DEEPSPARK_BENCH_NETS"] ?? "lenet,cifar10").split(",").filter(Boolean)
  const seconds = Number(process.env["DEEPSPARK_BENCH_SECONDS"] ?? 6)
  console.log(`bench/lenet: ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} (shared machine: compare ratios within one run)`)
  const results: IterationTiming[] = []
  for (const name of backends) {
    const backend = await makeBackend(name)
    let described = false
    for (const netCase of nets.filter((n) => netIds.includes(n.id))) {
      const t = timeTraining(backend, netCase, seconds)
      results.push(t)
      // After the first run: the gpu backend can only say which gpu.js kernel class ran once one has.
      if (!described) console.log(`${name}: ${backend.description}`)
      described = true
      printTiming(t)
    }
    if ("destroy" in backend && typeof backend.destroy === "function") backend.destroy()
  }
  let tfjs: TfjsTiming | undefined
  if (process.env["DEEPSPARK_BENCH_TFJS"] !== "0" && netIds.includes("lenet")) {
    try {
      tfjs = await timeTfjsLenet(seconds)
      console.log(`tfjs-wasm LeNet (batch 64): best ${fmt(tfjs.bestMs)} ms, median ${fmt(tfjs.medianMs)} ms/iter (CPU ${fmt(tfjs.cpuMs)} ms), ${((64 * 1000) / tfjs.medianMs).toFixed(0)} images/s, loss ${tfjs.loss.toFixed(3)}, peak RSS so far ${peakRssMb().toFixed(0)} MB`)
      console.log(`  measured: ${tfjs.what}`)
    } catch (e) {
      console.log(`tfjs-wasm: not measured (${(e as Error).message})`)
    }
  }
  const find = (backend: string, net: string) => results.find((r) => r.backend === backend && r.net === net)
  console.log("ratios (median wall ms; CPU-time ratio in brackets):")
  const ratio = (label: string, slow: { medianMs: number; cpuMs: number } | undefined, fast: { medianMs: number; cpuMs: number } | undefined, target?: number) => {
    if (!slow || !fast) return
    const r = slow.medianMs / fast.medianMs
    console.log(`  ${label}: ${r.toFixed(1)}× [${(slow.cpuMs / fast.cpuMs).toFixed(1)}×]${target ? (r >= target ? ` (target ≥ ${target}×: met)` : ` (target ≥ ${target}×: NOT met)`) : ""}`)
  }
  for (const n of nets) {
    ratio(`${n.label}: cpu vs gpu.js (gpu backend)`, find("gpu", n.label), find("cpu", n.label), n.id === "lenet" ? 10 : undefined)
    ratio(`${n.label}: cpu vs reference`, find("reference", n.label), find("cpu", n.label))
    ratio(`${n.label}: gpu vs reference`, find("reference", n.label), find("gpu", n.label))
  }
  ratio("LeNet: cpu vs TF.js wasm", tfjs, find("cpu", "LeNet"), 5)
  ratio("LeNet: gpu vs TF.js wasm", tfjs, find("gpu", "LeNet"))
  // This process holds every backend and TF.js; a trainer's own footprint is measured in a child.
  if (process.env["DEEPSPARK_BENCH_RSS"] !== "0") await (await import("./trainer-rss.js")).benchTrainerRss()
  // Forward+backward per layer against real Caffe on the same nets (or its reference figures).
  if (process.env["DEEPSPARK_BENCH_CAFFE"] !== "0") await (await import("./caffe-compare.js")).benchCaffeCompare()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchLenet()
