/**
 * One LeNet training iteration (Caffe's MNIST LeNet, batch 64: forward + backward + the engine's SGD
 * update with lenet_solver.prototxt's settings — momentum 0.9, weight decay 5e-4, lr policy inv — as the
 * Solver runs it: one fused wasm pass per parameter on cpu, the JS passes on reference) on the cpu
 * backend and on the reference backend, in one run.
 * Target for the cpu backend: ≤ 55 ms (BVLC Caffe + OpenBLAS, one thread: 26–28.5 ms).
 *
 *   node bin/run-ts.mjs bench/cpu-lenet.ts      (or import { benchCpuLenet })
 *   DEEPSPARK_BENCH_REFERENCE=0 …               cpu backend only (e.g. under --cpu-prof)
 *   DEEPSPARK_BENCH_FMA=0 …                     force the plain mul+add SIMD path
 */
import os from "node:os"
import { pathToFileURL } from "node:url"
import { parsePrototxt } from "@deepspark/caffe"
import { type Backend, Net, referenceBackend, updateSolverFromParameter } from "@deepspark/engine"
import { createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"

const batch = 64
// lenet_train_test.prototxt's TRAIN net with the LMDB Data layer replaced by an Input layer.
const lenet = `
name: "LeNet"
layer { name: "data" type: "Input" top: "data" top: "label"
  input_param { shape { dim: ${batch} dim: 1 dim: 28 dim: 28 } shape { dim: ${batch} } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
`

interface Timing {
  readonly ms: number
  readonly loss: number
}

const trainIterations = (backend: Backend, iterations: number): Timing => {
  const net = new Net(parsePrototxt("NetParameter", lenet), { backend })
  const data = net.blobByName("data")!
  const label = net.blobByName("label")!
  const params = net.learnableParams()
  const solver = updateSolverFromParameter({ base_lr: 0.01, momentum: 0.9, weight_decay: 0.0005, lr_policy: "inv", gamma: 0.0001, power: 0.75 })
  solver.useBackend(backend)
  let iteration = 0
  let seed = 7
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed / 2 ** 32
  }
  const step = (): number => {
    for (let i = 0; i < data.count; i++) data.data[i] = rand()
    for (let i = 0; i < label.count; i++) label.data[i] = Math.floor(rand() * 10)
    net.clearParamDiffs()
    const loss = net.forwardBackward()
    solver.applyUpdate(params, iteration++)
    return loss
  }
  step() // set-up and warm-up (tier-up of the wasm)
  step()
  let best = Infinity
  let loss = 0
  for (let i = 0; i < iterations; i++) {
    const t = process.cpuUsage()
    loss = step()
    const u = process.cpuUsage(t)
    best = Math.min(best, (u.user + u.system) / 1000)
  }
  return { ms: best, loss }
}

export async function benchCpuLenet(): Promise<void> {
  const cpu = await createCpuBackend({ fma: process.env.DEEPSPARK_BENCH_FMA !== "0" })
  console.log(`cpu backend: ${cpu.description}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`)
  const c = trainIterations(cpu, Number(process.env.DEEPSPARK_BENCH_ITERS ?? 20))
  console.log(`LeNet train iteration (batch ${batch}), cpu backend: ${c.ms.toFixed(1)} ms (best, process CPU time), loss ${c.loss.toFixed(3)}`)
  if (process.env.DEEPSPARK_BENCH_REFERENCE === "0") return
  const r = trainIterations(referenceBackend, 2)
  console.log(`LeNet train iteration (batch ${batch}), reference backend: ${r.ms.toFixed(1)} ms → cpu is ${(r.ms / c.ms).toFixed(1)}× faster`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchCpuLenet()
