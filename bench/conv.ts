/**
 * Convolution forward per image: im2col + GEMM (what the cpu backend runs) against the direct kernel
 * (wasm/conv-direct.wat.ts, bit-identical outputs) on LeNet's and CIFAR-10 quick's 5×5 shapes and some
 * 3×3 ones, in one run; each figure the best of many short batches. Also checks that both give the
 * same bits.
 *
 *   node bin/run-ts.mjs bench/conv.ts        (or `npm run bench conv`)
 */
import os from "node:os"
import { pathToFileURL } from "node:url"
import type { ConvGeometry } from "../packages/engine/src/backend/backend.js"
import { createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"

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
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchConv()
