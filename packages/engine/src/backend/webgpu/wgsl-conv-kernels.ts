/**
 * Register-tiled convolution kernels (implicit GEMM, no im2col buffer, no workgroup barriers): each
 * invocation computes a block of TILE × TILE outputs — TILE output channels × TILE output pixels forward,
 * TILE input channels × TILE input pixels for the bottom diff, TILE output channels × TILE weights of
 * one input channel window for the weight diff — so each weight value read serves TILE pixels and each
 * image value read serves TILE channels. The one-output-per-thread kernels of wgsl-kernels.ts read both
 * operands once per multiply-add; on a software adapter (llvmpipe runs 8 invocations per SIMD vector and
 * every load is a gather) and on a GPU alike, the loads are what costs.
 *
 * Each output still sums its terms in the one-thread kernels' order (input channel, kernel row, kernel
 * column; for the weight diff image, output row, output column), adding exact zeros where a window leaves
 * the image, so the forward and bottom-diff results are the same floats. The weight diff may split the
 * images into chunks summed by a second kernel (the chunk count from convWeightChunks), to give a small
 * filter bank (LeNet's conv1: 500 weights over 64 × 576 positions) enough invocations.
 */
import { type ConvShape, i, kernel, ro, rw, u } from "./wgsl-kernels.js"

/** Outputs per invocation along each of its two tile axes. */
export const CONV_TILE = 4

const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k)
const tiles = (n: number): number => Math.ceil(n / CONV_TILE)
/** A kernel's WGSL and the invocations its dispatch needs (the tiled kernels run fewer than one per output). */
export interface SizedKernel {
  readonly source: string
  readonly threads: number
}

const sized = (threads: number, bindings: ReadonlyArray<string>, body: string): SizedKernel => ({ source: kernel(threads, bindings, body), threads })

const vec = (terms: string[]): string => `vec4<f32>(${terms.join(", ")})`

/** y[n,o,oy,ox] = Σ_{c,ky,kx} W·x + b, CONV_TILE channels × CONV_TILE pixels per invocation. Bindings: x, params, y. */
export const convForwardTiled = (s: ConvShape): SizedKernel => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  const rowTiles = tiles(og)
  const pixels = s.outH * s.outW
  const cols = s.num * pixels
  const colTiles = tiles(cols)
  const kernelSize = s.kernelH * s.kernelW
  const R = range(CONV_TILE)
  return sized(s.group * rowTiles * colTiles, [ro("x"), ro("p"), rw("y")], `
  let colTile = i % ${u(colTiles)};
  let rowTile = i / ${u(colTiles)};
  let grp = rowTile / ${u(rowTiles)};
  let oStart = grp * ${u(og)} + (rowTile % ${u(rowTiles)}) * ${u(CONV_TILE)};
  let oEnd = grp * ${u(og)} + ${u(og)};
  let c0 = grp * ${u(cg)};
${R.map((r) => `  let wRow${r} = ${u(s.weightOffset)} + min(oStart + ${u(r)}, oEnd - 1u) * ${u(cg * kernelSize)};`).join("\n")}
${R.map(
  (j) => `  let col${j} = colTile * ${u(CONV_TILE)} + ${u(j)};
  let live${j} = col${j} < ${u(cols)};
  let n${j} = min(col${j}, ${u(cols - 1)}) / ${u(pixels)};
  let q${j} = min(col${j}, ${u(cols - 1)}) % ${u(pixels)};
  let iy${j} = i32((q${j} / ${u(s.outW)}) * ${u(s.strideH)}) - ${i(s.padH)};
  let ix${j} = i32((q${j} % ${u(s.outW)}) * ${u(s.strideW)}) - ${i(s.padW)};
  let xImage${j} = n${j} * ${u(s.channels * s.height * s.width)};`
).join("\n")}
${R.map((r) => `  var acc${r} = vec4<f32>(0.0);`).join("\n")}
  for (var c = 0u; c < ${u(cg)}; c++) {
    let xc = (c0 + c) * ${u(s.height * s.width)};
    let wc = c * ${u(kernelSize)};
    for (var ky = 0u; ky < ${u(s.kernelH)}; ky++) {
${R.map((j) => `      let y${j} = iy${j} + i32(ky * ${u(s.dilationH)});
      let rowOk${j} = live${j} && y${j} >= 0 && y${j} < ${i(s.height)};
      let xRow${j} = xImage${j} + xc + u32(select(0i, y${j}, rowOk${j})) * ${u(s.width)};`).join("\n")}
      for (var kx = 0u; kx < ${u(s.kernelW)}; kx++) {
        let wk = wc + ky * ${u(s.kernelW)} + kx;
${R.map((j) => `        let x${j} = ix${j} + i32(kx * ${u(s.dilationW)});
        let ok${j} = rowOk${j} && x${j} >= 0 && x${j} < ${i(s.width)};`).join("\n")}
        let v = ${vec(R.map((j) => `select(0.0, x[select(0u, xRow${j} + u32(x${j}), ok${j})], ok${j})`))};
${R.map((r) => `        acc${r} = acc${r} + p[wRow${r} + wk] * v;`).join("\n")}
      }
    }
  }
${R.map((r) => `  let o${r} = oStart + ${u(r)};
  if (o${r} < oEnd) {
    let b${r} = ${s.biasOffset >= 0 ? `p[${u(s.biasOffset)} + o${r}]` : "0.0"};
${R.map((j) => `    if (live${j}) { y[(n${j} * ${u(s.numOutput)} + o${r}) * ${u(pixels)} + q${j}] = acc${r}[${j}]${s.biasOffset >= 0 ? ` + b${r}` : ""}; }`).join("\n")}
  }`).join("\n")}`)
}

/** dx[n,c,h,w] = Σ_{o,ky,kx} W·dy over the windows covering (h,w) (overwrites), CONV_TILE channels × CONV_TILE pixels per invocation. Bindings: dy, params, dx. */
export const convBackwardDataTiled = (s: ConvShape): SizedKernel => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  const rowTiles = tiles(cg)
  const pixels = s.height * s.width
  const cols = s.num * pixels
  const colTiles = tiles(cols)
  const kernelSize = s.kernelH * s.kernelW
  const R = range(CONV_TILE)
  return sized(s.group * rowTiles * colTiles, [ro("dy"), ro("p"), rw("dx")], `
  let colTile = i % ${u(colTiles)};
  let rowTile = i / ${u(colTiles)};
  let grp = rowTile / ${u(rowTiles)};
  let ccStart = (rowTile % ${u(rowTiles)}) * ${u(CONV_TILE)};
${R.map((r) => `  let cc${r} = min(ccStart + ${u(r)}, ${u(cg - 1)});`).join("\n")}
${R.map(
  (j) => `  let col${j} = colTile * ${u(CONV_TILE)} + ${u(j)};
  let live${j} = col${j} < ${u(cols)};
  let n${j} = min(col${j}, ${u(cols - 1)}) / ${u(pixels)};
  let q${j} = min(col${j}, ${u(cols - 1)}) % ${u(pixels)};
  let h${j} = i32(q${j} / ${u(s.width)}) + ${i(s.padH)};
  let w${j} = i32(q${j} % ${u(s.width)}) + ${i(s.padW)};`
).join("\n")}
${R.map((r) => `  var acc${r} = vec4<f32>(0.0);`).join("\n")}
  for (var oo = 0u; oo < ${u(og)}; oo++) {
    let o = grp * ${u(og)} + oo;
${R.map((j) => `    let dyBase${j} = (n${j} * ${u(s.numOutput)} + o) * ${u(s.outH * s.outW)};`).join("\n")}
${R.map((r) => `    let wRow${r} = ${u(s.weightOffset)} + (o * ${u(cg)} + cc${r}) * ${u(kernelSize)};`).join("\n")}
    for (var ky = 0u; ky < ${u(s.kernelH)}; ky++) {
${R.map((j) => `      let ty${j} = h${j} - i32(ky * ${u(s.dilationH)});
      let oy${j} = ty${j} / ${i(s.strideH)};
      let rowOk${j} = live${j} && ty${j} >= 0 && ty${j} % ${i(s.strideH)} == 0 && oy${j} < ${i(s.outH)};
      let dyRow${j} = dyBase${j} + u32(select(0i, oy${j}, rowOk${j})) * ${u(s.outW)};`).join("\n")}
      for (var kx = 0u; kx < ${u(s.kernelW)}; kx++) {
        let wk = ky * ${u(s.kernelW)} + kx;
${R.map((j) => `        let tx${j} = w${j} - i32(kx * ${u(s.dilationW)});
        let ox${j} = tx${j} / ${i(s.strideW)};
        let ok${j} = rowOk${j} && tx${j} >= 0 && tx${j} % ${i(s.strideW)} == 0 && ox${j} < ${i(s.outW)};`).join("\n")}
        let v = ${vec(R.map((j) => `select(0.0, dy[select(0u, dyRow${j} + u32(ox${j}), ok${j})], ok${j})`))};
${R.map((r) => `        acc${r} = acc${r} + p[wRow${r} + wk] * v;`).join("\n")}
      }
    }
  }
${R.map((r) => `  if (ccStart + ${u(r)} < ${u(cg)}) {
    let c${r} = grp * ${u(cg)} + ccStart + ${u(r)};
${R.map((j) => `    if (live${j}) { dx[(n${j} * ${u(s.channels)} + c${r}) * ${u(pixels)} + q${j}] = acc${r}[${j}]; }`).join("\n")}
  }`).join("\n")}`)
}

/** Image chunks the weight-diff kernel splits the batch into: enough invocations for ~2,048 threads, at most one chunk per image. */
export const convWeightChunks = (s: ConvShape): { readonly chunks: number; readonly perChunk: number } => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  const invocations = s.group * tiles(og) * tiles(cg * s.kernelH * s.kernelW)
  const wanted = Math.max(1, Math.min(s.num, Math.ceil(2048 / invocations)))
  const perChunk = Math.ceil(s.num / wanted)
  return { chunks: Math.ceil(s.num / perChunk), perChunk }
}

/**
 * dW[o,c,ky,kx] (+)= Σ_{n,oy,ox} dy·x, CONV_TILE output channels × CONV_TILE weights per invocation
 * and one chunk of images. One chunk: added into the parameter diffs (Caffe's accumulation). Several:
 * written to `partial` (chunk-major, one weight bank per chunk) for convWeightChunkSum.
 * Bindings: dy, x, paramDiff | dy, x, partial.
 */
export const convBackwardWeightTiled = (s: ConvShape): SizedKernel => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  const kernelSize = s.kernelH * s.kernelW
  const depth = cg * kernelSize
  const rowTiles = tiles(og)
  const colTiles = tiles(depth)
  const { chunks, perChunk } = convWeightChunks(s)
  const R = range(CONV_TILE)
  const single = chunks === 1
  const count = s.numOutput * depth
  return sized(chunks * s.group * rowTiles * colTiles, [ro("dy"), ro("x"), rw(single ? "pd" : "partial")], `
  let colTile = i % ${u(colTiles)};
  var t = i / ${u(colTiles)};
  let rowTile = t % ${u(s.group * rowTiles)};
  let chunk = t / ${u(s.group * rowTiles)};
  let grp = rowTile / ${u(rowTiles)};
  let oStart = grp * ${u(og)} + (rowTile % ${u(rowTiles)}) * ${u(CONV_TILE)};
  let oEnd = grp * ${u(og)} + ${u(og)};
${R.map((r) => `  let dyPlane${r} = min(oStart + ${u(r)}, oEnd - 1u) * ${u(s.outH * s.outW)};`).join("\n")}
${R.map(
  (j) => `  let k${j} = colTile * ${u(CONV_TILE)} + ${u(j)};
  let live${j} = k${j} < ${u(depth)};
  let kc${j} = min(k${j}, ${u(depth - 1)});
  let xPlane${j} = (grp * ${u(cg)} + kc${j} / ${u(kernelSize)}) * ${u(s.height * s.width)};
  let ky${j} = i32(((kc${j} % ${u(kernelSize)}) / ${u(s.kernelW)}) * ${u(s.dilationH)}) - ${i(s.padH)};
  let kx${j} = i32((kc${j} % ${u(s.kernelW)}) * ${u(s.dilationW)}) - ${i(s.padW)};`
).join("\n")}
${R.map((r) => `  var acc${r} = vec4<f32>(0.0);`).join("\n")}
  let nEnd = min(chunk * ${u(perChunk)} + ${u(perChunk)}, ${u(s.num)});
  for (var n = chunk * ${u(perChunk)}; n < nEnd; n++) {
    let dyImage = n * ${u(s.numOutput * s.outH * s.outW)};
    let xImage = n * ${u(s.channels * s.height * s.width)};
    for (var oy = 0u; oy < ${u(s.outH)}; oy++) {
${R.map((j) => `      let y${j} = i32(oy * ${u(s.strideH)}) + ky${j};
      let rowOk${j} = live${j} && y${j} >= 0 && y${j} < ${i(s.height)};
      let xRow${j} = xImage + xPlane${j} + u32(select(0i, y${j}, rowOk${j})) * ${u(s.width)};`).join("\n")}
      let dyRow = dyImage + oy * ${u(s.outW)};
      for (var ox = 0u; ox < ${u(s.outW)}; ox++) {
${R.map((j) => `        let x${j} = i32(ox * ${u(s.strideW)}) + kx${j};
        let ok${j} = rowOk${j} && x${j} >= 0 && x${j} < ${i(s.width)};`).join("\n")}
        let v = ${vec(R.map((j) => `select(0.0, x[select(0u, xRow${j} + u32(x${j}), ok${j})], ok${j})`))};
${R.map((r) => `        acc${r} = acc${r} + dy[dyRow + dyPlane${r} + ox] * v;`).join("\n")}
      }
    }
  }
${R.map((r) => `  if (oStart + ${u(r)} < oEnd) {
    let w${r} = (oStart + ${u(r)}) * ${u(depth)};
${R.map((j) =>
  single
    ? `    if (live${j}) { let at = ${u(s.weightOffset)} + w${r} + k${j}; pd[at] = pd[at] + acc${r}[${j}]; }`
    : `    if (live${j}) { partial[chunk * ${u(count)} + w${r} + k${j}] = acc${r}[${j}]; }`
).join("\n")}
  }`).join("\n")}`)
}

/** dW += Σ over the chunks of their partial weight diffs, chunk by chunk in order. Bindings: partial, paramDiff. */
export const convWeightChunkSum = (s: ConvShape): SizedKernel => {
  const count = s.numOutput * (s.channels / s.group) * s.kernelH * s.kernelW
  const { chunks } = convWeightChunks(s)
  return sized(count, [ro("partial"), rw("pd")], `
  var sum = 0.0;
  for (var c = 0u; c < ${u(chunks)}; c++) { sum = sum + partial[c * ${u(count)} + i]; }
  pd[${u(s.weightOffset)} + i] = pd[${u(s.weightOffset)} + i] + sum;`)
}

/**
 * The column form of a convolution's image, Caffe's im2col batched over the images: a (C/G·KH·KW) ×
 * (N·OH·OW) matrix (group 1), row (c, ky, kx), column (n, oy, ox), zero where the window leaves the
 * image. With it the convolution's products have contiguous operands and no bounds tests in their
 * inner loops (columnProduct); it costs a scratch buffer of that size per convolution.
 */
export const columnCount = (s: ConvShape): number => (s.channels / s.group) * s.kernelH * s.kernelW * s.num * s.outH * s.outW

/** Scratch a convolution's column matrix may take (floats) before the kernels fall back to the direct tiled ones. */
export const COLUMN_LIMIT = 16 * 2 ** 20

/** Whether the column kernels serve this shape: one group, and a column matrix within COLUMN_LIMIT. */
export const usesColumns = (s: ConvShape): boolean => s.group === 1 && columnCount(s) <= COLUMN_LIMIT

/** col[(c,ky,kx), (n,oy,ox)] = x[n, c, oy·s − p + ky·d, …] or 0. Bindings: x, col. */
export const im2col = (s: ConvShape): SizedKernel => {
  const pixels = s.outH * s.outW
  const cols = s.num * pixels
  return sized(columnCount(s), [ro("x"), rw("col")], `
  let column = i % ${u(cols)};
  let row = i / ${u(cols)};
  let kx = row % ${u(s.kernelW)};
  let ky = (row / ${u(s.kernelW)}) % ${u(s.kernelH)};
  let c = row / ${u(s.kernelH * s.kernelW)};
  let n = column / ${u(pixels)};
  let q = column % ${u(pixels)};
  let y = i32((q / ${u(s.outW)}) * ${u(s.strideH)} + ky * ${u(s.dilationH)}) - ${i(s.padH)};
  let x0 = i32((q % ${u(s.outW)}) * ${u(s.strideW)} + kx * ${u(s.dilationW)}) - ${i(s.padW)};
  let ok = y >= 0 && y < ${i(s.height)} && x0 >= 0 && x0 < ${i(s.width)};
  let at = ((n * ${u(s.channels)} + c) * ${u(s.height)} + u32(select(0i, y, ok))) * ${u(s.width)} + u32(select(0i, x0, ok));
  col[i] = select(0.0, x[at], ok);`)
}

/** dx[n,c,h,w] = Σ over the (ky,kx) whose window covers (h,w) of col[(c,ky,kx), (n,oy,ox)] (Caffe's col2im order; overwrites). Bindings: col, dx. */
export const col2im = (s: ConvShape): SizedKernel => {
  const pixels = s.outH * s.outW
  const cols = s.num * pixels
  return sized(s.num * s.channels * s.height * s.width, [ro("col"), rw("dx")], `
  let w = i32(i % ${u(s.width)}) + ${i(s.padW)};
  let h = i32((i / ${u(s.width)}) % ${u(s.height)}) + ${i(s.padH)};
  let c = (i / ${u(s.width * s.height)}) % ${u(s.channels)};
  let n = i / ${u(s.width * s.height * s.channels)};
  var sum = 0.0;
  for (var ky = 0u; ky < ${u(s.kernelH)}; ky++) {
    let ty = h - i32(ky * ${u(s.dilationH)});
    let oy = ty / ${i(s.strideH)};
    if (ty < 0 || ty % ${i(s.strideH)} != 0 || oy >= ${i(s.outH)}) { continue; }
    for (var kx = 0u; kx < ${u(s.kernelW)}; kx++) {
      let tx = w - i32(kx * ${u(s.dilationW)});
      let ox = tx / ${i(s.strideW)};
      if (tx < 0 || tx % ${i(s.strideW)} != 0 || ox >= ${i(s.outW)}) { continue; }
      sum = sum + col[((c * ${u(s.kernelH)} + ky) * ${u(s.kernelW)} + kx) * ${u(cols)} + n * ${u(pixels)} + u32(oy) * ${u(s.outW)} + u32(ox)];
    }
  }
  dx[i] = sum;`)
}

/**
 * A matrix product whose operands are WGSL index expressions: out(r, col) = Σ_k a(r,k)·b(k,col), over
 * CONV_TILE × CONV_TILE register tiles (adjacent invocations take adjacent column tiles). `columnSetup`
 * declares per-column values (suffixed by the tile column j) that `b` and `store` may use.
 */
interface ColumnProduct {
  readonly rows: number
  readonly cols: number
  readonly depth: number
  readonly bindings: ReadonlyArray<string>
  readonly a: (row: string, k: string) => string
  readonly columnSetup: (j: number, col: string) => string
  readonly b: (k: string, j: number) => string
  readonly store: (row: string, j: number, value: string) => string
  /** The depth split into chunks of `perChunk` (the store sees `chunk`); one chunk when absent. */
  readonly chunks?: { readonly count: number; readonly perChunk: number }
}

const columnProduct = (p: ColumnProduct): SizedKernel => {
  const colTiles = tiles(p.cols)
  const rowTiles = tiles(p.rows)
  const R = range(CONV_TILE)
  const chunks = p.chunks ?? { count: 1, perChunk: p.depth }
  return sized(chunks.count * rowTiles * colTiles, p.bindings, `
  let colTile = i % ${u(colTiles)};
  let r0 = ((i / ${u(colTiles)}) % ${u(rowTiles)}) * ${u(CONV_TILE)};
  let chunk = i / ${u(colTiles * rowTiles)};
  let kEnd = min(chunk * ${u(chunks.perChunk)} + ${u(chunks.perChunk)}, ${u(p.depth)});
${R.map((r) => `  let row${r} = min(r0 + ${u(r)}, ${u(p.rows - 1)});`).join("\n")}
${R.map((j) => `  let live${j} = colTile * ${u(CONV_TILE)} + ${u(j)} < ${u(p.cols)};
  let col${j} = min(colTile * ${u(CONV_TILE)} + ${u(j)}, ${u(p.cols - 1)});
${p.columnSetup(j, `col${j}`)}`).join("\n")}
${R.map((r) => `  var acc${r} = vec4<f32>(0.0);`).join("\n")}
  for (var k = chunk * ${u(chunks.perChunk)}; k < kEnd; k++) {
    let v = ${vec(R.map((j) => p.b("k", j)))};
${R.map((r) => `    acc${r} = acc${r} + ${p.a(`row${r}`, "k")} * v;`).join("\n")}
  }
${R.map((r) => `  if (r0 + ${u(r)} < ${u(p.rows)}) {
${R.map((j) => `    if (live${j}) { ${p.store(`row${r}`, j, `acc${r}[${j}]`)} }`).join("\n")}
  }`).join("\n")}`)
}

/** Forward from the column matrix: y[n,o,q] = Σ_k W[o,k]·col[k,(n,q)] + b[o] (the direct kernels' order). Bindings: col, params, y. */
export const convForwardColumns = (s: ConvShape): SizedKernel => {
  const pixels = s.outH * s.outW
  const cols = s.num * pixels
  const depth = s.channels * s.kernelH * s.kernelW
  return columnProduct({
    rows: s.numOutput,
    cols,
    depth,
    bindings: [ro("col"), ro("p"), rw("y")],
    a: (r, k) => `p[${u(s.weightOffset)} + ${r} * ${u(depth)} + ${k}]`,
    columnSetup: (j, col) => `  let out${j} = (${col} / ${u(pixels)}) * ${u(s.numOutput * pixels)} + ${col} % ${u(pixels)};`,
    b: (k, j) => `col[${k} * ${u(cols)} + col${j}]`,
    store: (r, j, v) => `y[out${j} + ${r} * ${u(pixels)}] = ${v}${s.biasOffset >= 0 ? ` + p[${u(s.biasOffset)} + ${r}]` : ""};`
  })
}

/** The bottom diff's column matrix: col[k,(n,q)] = Σ_o W[o,k]·dy[n,o,q] (then col2im). Bindings: dy, params, col. */
export const convBackwardColumns = (s: ConvShape): SizedKernel => {
  const pixels = s.outH * s.outW
  const cols = s.num * pixels
  const depth = s.channels * s.kernelH * s.kernelW
  return columnProduct({
    rows: depth,
    cols,
    depth: s.numOutput,
    bindings: [ro("dy"), ro("p"), rw("col")],
    a: (r, k) => `p[${u(s.weightOffset)} + ${k} * ${u(depth)} + ${r}]`,
    columnSetup: (j, col) => `  let dyAt${j} = (${col} / ${u(pixels)}) * ${u(s.numOutput * pixels)} + ${col} % ${u(pixels)};`,
    b: (k, j) => `dy[dyAt${j} + ${k} * ${u(pixels)}]`,
    store: (r, j, v) => `col[${r} * ${u(cols)} + col${j}] = ${v};`
  })
}

/**
 * The weight diff from the forward's column matrix: dW[o,k] (+)= Σ_{n,q} col[k,(n,q)]·dy[n,o,q], the
 * images in convWeightChunks' chunks (one: added into the parameter diffs; several: partial banks for
 * convWeightChunkSum). Tiles run over k (rows) × o (columns), so adjacent invocations read the same
 * column-matrix rows and nearby dy planes: with k along the invocations, 32 lanes would stream 32 rows
 * N·OH·OW apart — a power of two for LeNet, all in one cache set. Bindings: dy, col, paramDiff | dy, col, partial.
 */
export const convWeightColumns = (s: ConvShape): SizedKernel => {
  const pixels = s.outH * s.outW
  const cols = s.num * pixels
  const depth = s.channels * s.kernelH * s.kernelW
  const { chunks, perChunk } = convWeightChunks(s)
  const count = s.numOutput * depth
  return columnProduct({
    rows: depth,
    cols: s.numOutput,
    depth: cols,
    bindings: [ro("dy"), ro("col"), rw(chunks === 1 ? "pd" : "partial")],
    a: (r, k) => `col[${r} * ${u(cols)} + ${k}]`,
    columnSetup: (j, col) => `  let dyPlane${j} = ${col} * ${u(pixels)};`,
    b: (k, j) => `dy[(${k} / ${u(pixels)}) * ${u(s.numOutput * pixels)} + dyPlane${j} + ${k} % ${u(pixels)}]`,
    store: (r, j, v) =>
      chunks === 1
        ? `let at = ${u(s.weightOffset)} + col${j} * ${u(depth)} + ${r}; pd[at] = pd[at] + ${v};`
        : `partial[chunk * ${u(count)} + col${j} * ${u(depth)} + ${r}] = ${v};`,
    chunks: { count: chunks, perChunk: perChunk * pixels }
  })
}
