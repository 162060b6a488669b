/**
 * Convolution forward per image: im2col + GEMM against the direct kernel (wasm/conv-direct.wat.ts,
 * bit-identical outputs) on LeNet's and CIFAR-10 quick's 5×5 shapes and some 3×3 ones, in one run;
 * each figure the best of many short batches. Also checks that both give the same bits. Then the
 * Convolution layer over a whole batch, one image per GEMM (Caffe's loop) against a group of images per
 * GEMM (the cpu backend's default column budget), forward and backward in alternating rounds, with
 * 1 and 2 GEMM threads.
 *
 *   node bin/run-ts.mjs bench/conv.ts        (or `npm run bench conv`)
 */
import os from "node:os"
import { pathToFileURL } from "node:url"
import type { ConvGeometry } from "../packages/engine/src/backend/backend.js"
import { type CpuBackend, createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"
import { Blob } from "../packages/engine/src/core/blob.js"
import { Rng } from "../packages/engine/src/core/rng.js"
import { ConvolutionLayer } from "../packages/engine/src/layers/convolution.js"

const geometry = (channels: number, size: number, kernel: number, pad: number): ConvGeometry => ({
  channels,
  height: size,
  width: size,
  kernelH: kernel,
  kernelW: kernel,
  padH: pad,
  padW: pad,
  strideH: 1,
  strideW: 1,
  dilationH: 1,
  dilationW: 1,
  outH: size + 2 * pad - kernel + 1,
  outW: size + 2 * pad - kernel + 1
})

const shapes: ReadonlyArray<readonly [string, ConvGeometry, number]> = [
  ["LeNet conv1 5×5", geometry(1, 28, 5, 0), 20],
  ["LeNet conv2 5×5", geometry(20, 12, 5, 0), 50],
  ["CIFAR conv1 5×5", geometry(3, 32, 5, 2), 32],
  ["CIFAR conv2 5×5", geometry(32, 16, 5, 2), 32],
  ["CIFAR conv3 5×5", geometry(32, 8, 5, 2), 64],
  ["3×3 32→32, 32²", geometry(32, 32, 3, 1), 32],
  ["3×3 64→64, 16²", geometry(64, 16, 3, 1), 64],
  ["3×3 128→128, 8²", geometry(128, 8, 3, 1), 128]
]

const best = (f: () => void, flops: number): number => {
  const reps = Math.max(3, Math.round(1.5e8 / flops))
  let t = Number.POSITIVE_INFINITY
  for (let r = 0; r < 40; r++) {
    const s = performance.now()
    for (let i = 0; i < reps; i++) f()
    t = Math.min(t, (performance.now() - s) / reps)
  }
  return t
}

export const benchConv = async (): Promise<void> => {
  const be = await createCpuBackend({ convolution: "direct" })
  console.log(`cpu backend: ${be.description}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`)
  console.log("shape              M×K×N            im2col+GEMM µs  GFLOPS   direct µs  GFLOPS  direct/im2col speed  same bits")
  for (const [label, g, M] of shapes) {
    const K = g.channels * g.kernelH * g.kernelW
    const N = g.outH * g.outW
    const flops = 2 * M * N * K
    const w = be.allocator.allocFloat32(M * K)
    const x = be.allocator.allocFloat32(g.channels * g.height * g.width)
    for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 0.7)
    for (let i = 0; i < x.length; i++) x[i] = Math.cos(i * 0.3)
    const col = be.allocator.allocFloat32(K * N)
    const viaGemm = be.allocator.allocFloat32(M * N)
    const viaDirect = be.allocator.allocFloat32(M * N)
    const direct = be.directConvolution(g, M)!
    const gemmPath = () => {
      be.im2col(g, x, 0, col)
      be.gemm(false, false, M, N, K, 1, w, 0, col, 0, 0, viaGemm, 0)
    }
    const directPath = () => direct(w, x, 0, viaDirect, 0)
    const tGemm = best(gemmPath, flops)
    const tDirect = best(directPath, flops)
    const same = viaGemm.every((v, i) => Object.is(v, viaDirect[i]))
    console.log(
      `${label.padEnd(18)} ${`${M}×${K}×${N}`.padEnd(16)} ${(tGemm * 1000).toFixed(1).padStart(14)} ${(flops / tGemm / 1e6).toFixed(1).padStart(7)} ` +
        `${(tDirect * 1000).toFixed(1).padStart(11)} ${(flops / tDirect / 1e6).toFixed(1).padStart(7)} ${`${(tGemm / tDirect).toFixed(2)}×`.padStart(20)}  ${same ? "yes" : "NO"}`
    )
  }
  await benchConvGrouped()
}

/** Caffe's nets' convolutions at their batch sizes: [label, bottom shape, num_output, kernel, pad]. */
const layerShapes: ReadonlyArray<readonly [string, ReadonlyArray<number>, number, number, number]> = [
  ["LeNet conv1 (64)", [64, 1, 28, 28], 20, 5, 0],
  ["LeNet conv2 (64)", [64, 20, 12, 12], 50, 5, 0],
  ["CIFAR conv1 (100)", [100, 3, 32, 32], 32, 5, 2],
  ["CIFAR conv2 (100)", [100, 32, 16, 16], 32, 5, 2],
  ["CIFAR conv3 (100)", [100, 32, 8, 8], 64, 5, 2]
]

interface LayerRig {
  readonly forward: () => void
  readonly backward: () => void
  readonly method: string
}

const layerRig = (backend: CpuBackend, shape: ReadonlyArray<number>, numOutput: number, kernel: number, pad: number): LayerRig => {
  const layer = new ConvolutionLayer(
    { name: "conv", type: "Convolution", bottom: ["x"], top: ["y"], convolution_param: { num_output: numOutput, kernel_size: [kernel], pad: [pad], weight_filler: { type: "xavier" } } },
    { phase: "TRAIN", backend, rng: new Rng(1), services: {} }
  )
  const bottom = [new Blob(shape, backend.allocator)]
  const top = [new Blob([1], backend.allocator)]
  for (let i = 0; i < bottom[0]!.count; i++) bottom[0]!.data[i] = Math.cos(i * 0.3)
  layer.setUp(bottom, top)
  layer.reshape(bottom, top)
  for (let i = 0; i < top[0]!.count; i++) top[0]!.diff[i] = Math.sin(i * 0.1)
  return { forward: () => layer.forward(bottom, top), backward: () => layer.backward(top, [true], bottom), method: layer.forwardMethod }
}

/** Median of per-round ratios and best times, rounds alternating between the two rigs. */
const compareRigs = (a: () => void, b: () => void, rounds: number): { bestA: number; bestB: number; medianRatio: number } => {
  const ratios: number[] = []
  let bestA = Number.POSITIVE_INFINITY
  let bestB = Number.POSITIVE_INFINITY
  const time = (f: () => void) => {
    const s = performance.now()
    f()
    return performance.now() - s
  }
  a()
  b()
  for (let r = 0; r < rounds; r++) {
    const ta = time(a)
    const tb = time(b)
    bestA = Math.min(bestA, ta)
    bestB = Math.min(bestB, tb)
    ratios.push(tb / ta)
  }
  ratios.sort((x, y) => x - y)
  return { bestA, bestB, medianRatio: ratios[ratios.length >> 1]! }
}

export const benchConvGrouped = async (): Promise<void> => {
  const rounds = Number(process.env["DEEPSPARK_BENCH_ROUNDS"] ?? 15)
  const threadCounts = (process.env["DEEPSPARK_BENCH_CONV_THREADS"] ?? "1,2").split(",").map(Number)
  for (const threads of threadCounts) {
    const perImage = await createCpuBackend({ threads, convolutionBatchBytes: 0 })
    const grouped = await createCpuBackend({ threads })
    console.log(
      `\nConvolution layer, whole batch: one image per GEMM vs a group per GEMM (${threads} GEMM thread${threads > 1 ? "s" : ""}; ` +
        `best of ${rounds} alternating rounds, ratio = median per round; load average ${os.loadavg()[0]!.toFixed(1)})`
    )
    console.log("layer               group   fwd per image ms  grouped ms  ratio   fwd+bwd per image ms  grouped ms  ratio")
    for (const [label, shape, numOutput, kernel, pad] of layerShapes) {
      const a = layerRig(perImage, shape, numOutput, kernel, pad)
      const b = layerRig(grouped, shape, numOutput, kernel, pad)
      const fwd = compareRigs(a.forward, b.forward, rounds)
      const both = compareRigs(
        () => (a.forward(), a.backward()),
        () => (b.forward(), b.backward()),
        rounds
      )
      const group = /groups of (\d+)/.exec(b.method)?.[1] ?? "1"
      console.log(
        `${label.padEnd(19)} ${group.padStart(5)} ${fwd.bestA.toFixed(2).padStart(17)} ${fwd.bestB.toFixed(2).padStart(11)} ${`${fwd.medianRatio.toFixed(2)}×`.padStart(6)}` +
          ` ${both.bestA.toFixed(2).padStart(21)} ${both.bestB.toFixed(2).padStart(11)} ${`${both.medianRatio.toFixed(2)}×`.padStart(6)}`
      )
    }
    await perImage.dispose()
    await grouped.dispose()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchConv()
