/**
 * Bench (node bin/run-ts.mjs bench/gpu-conv-kernels.ts): LeNet's two convolutions (batch 64) and its
 * inner products on the WebGPU device, each kernel variant timed alternately in the same run (the median
 * of DEEPSPARK_BENCH_REPS submissions, 5 by default): the one-thread-per-output direct kernels against
 * the register-tiled ones and the column-matrix ones, and ip1's GEMMs with and without workgroup tiles. Prints the machine's load with the numbers.
 */
import os from "node:os"
import { GpuContext } from "../packages/engine/src/backend/webgpu/gpu-context.js"
import * as C from "../packages/engine/src/backend/webgpu/wgsl-conv-kernels.js"
import * as K from "../packages/engine/src/backend/webgpu/wgsl-kernels.js"

process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] = "1"
const reps = Number(process.env["DEEPSPARK_BENCH_REPS"] ?? 5)
const ctx = await GpuContext.open()
console.log(`${ctx.adapter.description}; load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`)

const filled = (n: number): GPUBuffer => {
  const b = ctx.buffer(n)
  ctx.write(b, new Float32Array(n).map((_, k) => ((k * 7919) % 1000) / 1000 - 0.5))
  return b
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
type Variant = { readonly name: string; readonly run: () => void }
const compare = async (label: string, variants: Variant[]): Promise<void> => {
  const times = variants.map(() => [] as number[])
  for (const v of variants) {
    v.run()
    await ctx.finish()
  }
  for (let r = 0; r < reps; r++) {
    for (const [k, v] of variants.entries()) {
      const t = performance.now()
      v.run()
      await ctx.finish()
      times[k]!.push(performance.now() - t)
    }
  }
  console.log(`${label}: ${variants.map((v, k) => `${v.name} ${median(times[k]!).toFixed(1)} ms`).join(", ")}`)
}
const rw = (b: GPUBuffer, last: boolean) => ({ buffer: b, access: last ? ("rw" as const) : ("read" as const) })
const run1 = (source: string, bufs: GPUBuffer[], threads: number) => {
  const d = ctx.dispatch(source, bufs.map((b, k) => rw(b, k === bufs.length - 1)), threads)
  return () => ctx.run(d)
}

const conv = (name: string, num: number, channels: number, size: number, numOutput: number): K.ConvShape => {
  const out = size - 4
  return { num, channels, height: size, width: size, numOutput, group: 1, kernelH: 5, kernelW: 5, padH: 0, padW: 0, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, outH: out, outW: out, weightOffset: 0, biasOffset: numOutput * channels * 25, ...{ name } }
}
for (const s of [conv("conv1", 64, 1, 28, 20), conv("conv2", 64, 20, 12, 50)]) {
  const x = filled(s.num * s.channels * s.height * s.width)
  const y = filled(s.num * s.numOutput * s.outH * s.outW)
  const p = filled(s.numOutput * s.channels * 25 + s.numOutput)
  const pd = filled(s.numOutput * s.channels * 25 + s.numOutput)
  const xs = s.num * s.channels * s.height * s.width
  const ys = s.num * s.numOutput * s.outH * s.outW
  const ws = s.numOutput * s.channels * 25
  const tiledWeight = (columns?: GPUBuffer): (() => void) => {
    const { chunks } = C.convWeightChunks(s)
    const k = columns ? C.convWeightColumns(s) : C.convBackwardWeightTiled(s)
    const image = columns ?? x
    if (chunks === 1) return run1(k.source, [y, image, pd], k.threads)
    const partial = ctx.buffer(chunks * ws)
    const a = run1(k.source, [y, image, partial], k.threads)
    const sum = C.convWeightChunkSum(s)
    const b = run1(sum.source, [partial, pd], sum.threads)
    return () => (a(), b())
  }
  const label = (s as unknown as { name: string }).name
  const f = C.convForwardTiled(s)
  const col = ctx.buffer(C.columnCount(s))
  const unfold = C.im2col(s)
  const fc = C.convForwardColumns(s)
  const columnsForward = [run1(unfold.source, [x, col], unfold.threads), run1(fc.source, [col, p, y], fc.threads)]
  await compare(`${label} forward`, [
    { name: "direct", run: run1(K.convForward(s), [x, p, y], ys) },
    { name: "tiled", run: run1(f.source, [x, p, y], f.threads) },
    { name: "im2col + product", run: () => columnsForward.forEach((r) => r()) }
  ])
  const d = C.convBackwardDataTiled(s)
  const bc = C.convBackwardColumns(s)
  const fold = C.col2im(s)
  const columnsBackward = [run1(bc.source, [y, p, col], bc.threads), run1(fold.source, [col, x], fold.threads)]
  await compare(`${label} bottom diff`, [
    { name: "direct", run: run1(K.convBackwardData(s), [y, p, x], xs) },
    { name: "tiled", run: run1(d.source, [y, p, x], d.threads) },
    { name: "product + col2im", run: () => columnsBackward.forEach((r) => r()) }
  ])
  await compare(`${label} weight diff`, [{ name: "direct", run: run1(K.convBackwardWeight(s), [y, x, pd], ws) }, { name: "tiled", run: tiledWeight() }, { name: "from the columns", run: tiledWeight(col) }])
}
// LeNet's ip1 (batch 64, 800 → 500): forward, weight diff (accumulating, Aᵀ), bottom diff (Bᵀ), both GEMMs per shape.
for (const [label, g] of [
  ["ip1 forward", { M: 64, N: 500, K: 800, transA: false, transB: true, accumulate: false }],
  ["ip1 weight diff", { M: 500, N: 800, K: 64, transA: true, transB: false, accumulate: true }],
  ["ip1 bottom diff", { M: 64, N: 800, K: 500, transA: false, transB: false, accumulate: false }]
] as const) {
  const shape: K.GemmShape = { ...g, aOffset: 0, bOffset: 0, cOffset: 0 }
  const a = filled(g.M * g.K)
  const b = filled(g.K * g.N)
  const c = filled(g.M * g.N)
  const uniform = ctx.uniform(32)
  ctx.write(uniform, K.gemmUniform(shape))
  const variant = (software: boolean): Variant => {
    const kernel = K.gemmFor(software)
    const d = ctx.dispatchGroups(kernel.source(shape), [rw(a, false), rw(b, false), rw(c, true), { buffer: uniform, access: "uniform" }], ...kernel.groups(shape))
    return { name: software ? "no barriers" : "workgroup tiles", run: () => ctx.run(d) }
  }
  await compare(label, [variant(false), variant(true)])
}
ctx.destroy()
