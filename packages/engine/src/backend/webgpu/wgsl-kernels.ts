/**
 * WGSL sources of the device-resident kernels. Shapes, offsets into the parameter arenas and loss
 * weights are baked in as constants (one pipeline per layer shape, like gpu.js's constants); only the
 * solver's per-iteration rates travel in a uniform. Every kernel here but the GEMMs is one thread per
 * output element, reads its inputs in place and sums in float32 in a fixed order. The nets' convolutions
 * run on wgsl-conv-kernels.ts; the one-thread-per-output convolutions below are the baseline
 * bench/gpu-conv-kernels.ts measures them against.
 *
 * Written in WGSL instead of gpu.js because gpu.js 2.24's webgpu backend returns each kernel's output to
 * the host (a mapAsync per call) and cannot hand one kernel's output buffer to the next, nor bind
 * long-lived buffers (parameter arenas, pooling masks) that a later kernel updates in place.
 */
import { WORKGROUP } from "./gpu-context.js"

export const u = (n: number): string => `${Math.trunc(n)}u`
export const i = (n: number): string => `${Math.trunc(n)}i`

/** The common frame: bindings, the thread count guard and the folded 2-D grid index. */
export const kernel = (threads: number, bindings: ReadonlyArray<string>, body: string): string => {
  const groups = Math.max(1, Math.ceil(threads / WORKGROUP))
  const groupsX = Math.min(groups, 65535)
  return `${bindings.map((b, k) => `@group(0) @binding(${k}) ${b};`).join("\n")}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${u(groupsX * WORKGROUP)};
  if (i >= ${u(threads)}) { return; }
${body}
}
`
}

export const ro = (name: string, type = "f32"): string => `var<storage, read> ${name}: array<${type}>`
export const rw = (name: string, type = "f32"): string => `var<storage, read_write> ${name}: array<${type}>`

export interface ConvShape {
  readonly num: number
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly numOutput: number
  readonly group: number
  readonly kernelH: number
  readonly kernelW: number
  readonly padH: number
  readonly padW: number
  readonly strideH: number
  readonly strideW: number
  readonly dilationH: number
  readonly dilationW: number
  readonly outH: number
  readonly outW: number
  /** Element offsets of the weights and bias in the parameter arena (bias −1: none). */
  readonly weightOffset: number
  readonly biasOffset: number
}

/** y[n,o,oy,ox] = Σ_{c,ky,kx} W[o,c,ky,kx]·x[n,g·C/G + c, oy·s − p + ky·d, …] + b[o]. Bindings: x, params, y. */
export const convForward = (s: ConvShape): string => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  return kernel(s.num * s.numOutput * s.outH * s.outW, [ro("x"), ro("p"), rw("y")], `
  let ox = i % ${u(s.outW)};
  var t = i / ${u(s.outW)};
  let oy = t % ${u(s.outH)};
  t = t / ${u(s.outH)};
  let o = t % ${u(s.numOutput)};
  let n = t / ${u(s.numOutput)};
  let c0 = (o / ${u(og)}) * ${u(cg)};
  var sum = 0.0;
  for (var c = 0u; c < ${u(cg)}; c++) {
    let xBase = (n * ${u(s.channels)} + c0 + c) * ${u(s.height * s.width)};
    let wBase = ${u(s.weightOffset)} + (o * ${u(cg)} + c) * ${u(s.kernelH * s.kernelW)};
    for (var ky = 0u; ky < ${u(s.kernelH)}; ky++) {
      let iy = i32(oy * ${u(s.strideH)} + ky * ${u(s.dilationH)}) - ${i(s.padH)};
      if (iy < 0 || iy >= ${i(s.height)}) { continue; }
      for (var kx = 0u; kx < ${u(s.kernelW)}; kx++) {
        let ix = i32(ox * ${u(s.strideW)} + kx * ${u(s.dilationW)}) - ${i(s.padW)};
        if (ix < 0 || ix >= ${i(s.width)}) { continue; }
        sum = sum + p[wBase + ky * ${u(s.kernelW)} + kx] * x[xBase + u32(iy) * ${u(s.width)} + u32(ix)];
      }
    }
  }
  ${s.biasOffset >= 0 ? `sum = sum + p[${u(s.biasOffset)} + o];` : ""}
  y[i] = sum;`)
}

/** dx[n,c,h,w] = Σ over the outputs whose window covers (h,w) of W·dy (overwrites dx). Bindings: dy, params, dx. */
export const convBackwardData = (s: ConvShape): string => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  return kernel(s.num * s.channels * s.height * s.width, [ro("dy"), ro("p"), rw("dx")], `
  let w = i % ${u(s.width)};
  var t = i / ${u(s.width)};
  let h = t % ${u(s.height)};
  t = t / ${u(s.height)};
  let c = t % ${u(s.channels)};
  let n = t / ${u(s.channels)};
  let g = c / ${u(cg)};
  let cc = c % ${u(cg)};
  var sum = 0.0;
  for (var oo = 0u; oo < ${u(og)}; oo++) {
    let o = g * ${u(og)} + oo;
    let dyBase = (n * ${u(s.numOutput)} + o) * ${u(s.outH * s.outW)};
    let wBase = ${u(s.weightOffset)} + (o * ${u(cg)} + cc) * ${u(s.kernelH * s.kernelW)};
    for (var ky = 0u; ky < ${u(s.kernelH)}; ky++) {
      let ty = i32(h) + ${i(s.padH)} - i32(ky * ${u(s.dilationH)});
      if (ty < 0 || ty % ${i(s.strideH)} != 0) { continue; }
      let oy = ty / ${i(s.strideH)};
      if (oy >= ${i(s.outH)}) { continue; }
      for (var kx = 0u; kx < ${u(s.kernelW)}; kx++) {
        let tx = i32(w) + ${i(s.padW)} - i32(kx * ${u(s.dilationW)});
        if (tx < 0 || tx % ${i(s.strideW)} != 0) { continue; }
        let ox = tx / ${i(s.strideW)};
        if (ox >= ${i(s.outW)}) { continue; }
        sum = sum + p[wBase + ky * ${u(s.kernelW)} + kx] * dy[dyBase + u32(oy) * ${u(s.outW)} + u32(ox)];
      }
    }
  }
  dx[i] = sum;`)
}

/** dW[o,c,ky,kx] += Σ_{n,oy,ox} dy·x (accumulates, as Caffe's param diffs). Bindings: dy, x, paramDiff. */
export const convBackwardWeight = (s: ConvShape): string => {
  const cg = s.channels / s.group
  const og = s.numOutput / s.group
  return kernel(s.numOutput * cg * s.kernelH * s.kernelW, [ro("dy"), ro("x"), rw("pd")], `
  let kx = i % ${u(s.kernelW)};
  var t = i / ${u(s.kernelW)};
  let ky = t % ${u(s.kernelH)};
  t = t / ${u(s.kernelH)};
  let c = t % ${u(cg)};
  let o = t / ${u(cg)};
  let ci = (o / ${u(og)}) * ${u(cg)} + c;
  var sum = 0.0;
  for (var n = 0u; n < ${u(s.num)}; n++) {
    let dyBase = (n * ${u(s.numOutput)} + o) * ${u(s.outH * s.outW)};
    let xBase = (n * ${u(s.channels)} + ci) * ${u(s.height * s.width)};
    for (var oy = 0u; oy < ${u(s.outH)}; oy++) {
      let iy = i32(oy * ${u(s.strideH)} + ky * ${u(s.dilationH)}) - ${i(s.padH)};
      if (iy < 0 || iy >= ${i(s.height)}) { continue; }
      for (var ox = 0u; ox < ${u(s.outW)}; ox++) {
        let ix = i32(ox * ${u(s.strideW)} + kx * ${u(s.dilationW)}) - ${i(s.padW)};
        if (ix < 0 || ix >= ${i(s.width)}) { continue; }
        sum = sum + dy[dyBase + oy * ${u(s.outW)} + ox] * x[xBase + u32(iy) * ${u(s.width)} + u32(ix)];
      }
    }
  }
  pd[${u(s.weightOffset)} + i] = pd[${u(s.weightOffset)} + i] + sum;`)
}

/** db[o] += Σ_{n,spatial} dy[n,o,·] (accumulates). Bindings: dy, paramDiff. */
export const channelSumInto = (num: number, channels: number, spatial: number, offset: number): string =>
  kernel(channels, [ro("dy"), rw("pd")], `
  var sum = 0.0;
  for (var n = 0u; n < ${u(num)}; n++) {
    let base = (n * ${u(channels)} + i) * ${u(spatial)};
    for (var k = 0u; k < ${u(spatial)}; k++) { sum = sum + dy[base + k]; }
  }
  pd[${u(offset)} + i] = pd[${u(offset)} + i] + sum;`)

export interface GemmShape {
  readonly M: number
  readonly N: number
  readonly K: number
  readonly transA: boolean
  readonly transB: boolean
  /** Element offsets of A, B and C in their buffers. */
  readonly aOffset: number
  readonly bOffset: number
  readonly cOffset: number
  /** C += op(A)·op(B) instead of C = op(A)·op(B). */
  readonly accumulate: boolean
}

/** The tiled GEMM's blocking (what start-up logs): C tiles per workgroup, K step, threads and outputs per thread. */
export const GEMM_TILE = { rows: 64, cols: 64, depth: 16, threadsX: 16, threadsY: 16, perThread: 4 } as const

/** The uniform a gemm dispatch reads its shape and offsets from. */
export const gemmUniform = (s: GemmShape): Uint32Array => Uint32Array.of(s.M, s.N, s.K, s.aOffset, s.bOffset, s.cOffset, 0, 0)

/** Workgroups (x over N, y over M) a tiled GEMM dispatch needs. */
export const gemmGroups = (s: GemmShape): readonly [number, number] => [Math.ceil(s.N / 64), Math.ceil(s.M / 64)]

/**
 * C[M×N] (+)= op(A)·op(B), row-major: 64×64 tiles of C per 16×16 workgroup, 4×4 outputs per thread,
 * K in steps of 16 staged through workgroup memory (the kernel gpu.js cannot express). Shapes and offsets
 * come from a uniform, so one pipeline serves every GEMM with the same transposes (a software device
 * compiles each new pipeline for seconds). Bindings: a, b, c, the gemmUniform.
 */
export const gemm = (s: Pick<GemmShape, "transA" | "transB" | "accumulate">): string => {
  const a = (r: string, k: string) => (s.transA ? `a[g.aOffset + (${k}) * g.M + (${r})]` : `a[g.aOffset + (${r}) * g.K + (${k})]`)
  const b = (k: string, n: string) => (s.transB ? `b[g.bOffset + (${n}) * g.K + (${k})]` : `b[g.bOffset + (${k}) * g.N + (${n})]`)
  return `struct Gemm { M: u32, N: u32, K: u32, aOffset: u32, bOffset: u32, cOffset: u32 }
@group(0) @binding(0) ${ro("a")};
@group(0) @binding(1) ${ro("b")};
@group(0) @binding(2) ${rw("c")};
@group(0) @binding(3) var<uniform> g: Gemm;
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let tid = l.y * 16u + l.x;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < g.K; k0 = k0 + 16u) {
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      let m = e / 16u;
      let k = e % 16u;
      var av = 0.0;
      if (row0 + m < g.M && k0 + k < g.K) { av = ${a("row0 + m", "k0 + k")}; }
      As[k * 64u + m] = av;
      let kk = e / 64u;
      let n = e % 64u;
      var bv = 0.0;
      if (k0 + kk < g.K && col0 + n < g.N) { bv = ${b("k0 + kk", "col0 + n")}; }
      Bs[kk * 64u + n] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      let ab = k * 64u + l.y * 4u;
      let bb = k * 64u + l.x * 4u;
      let bv = vec4<f32>(Bs[bb], Bs[bb + 1u], Bs[bb + 2u], Bs[bb + 3u]);
      acc0 = acc0 + As[ab] * bv;
      acc1 = acc1 + As[ab + 1u] * bv;
      acc2 = acc2 + As[ab + 2u] * bv;
      acc3 = acc3 + As[ab + 3u] * bv;
    }
    workgroupBarrier();
  }
${[0, 1, 2, 3].map((q) => `  store(row0 + l.y * 4u + ${q}u, col0 + l.x * 4u, acc${q});`).join("\n")}
}

fn store(row: u32, col: u32, v: vec4<f32>) {
  if (row >= g.M) { return; }
  for (var z = 0u; z < 4u; z++) {
    if (col + z >= g.N) { return; }
    let at = g.cOffset + row * g.N + col + z;
    c[at] = ${s.accumulate ? "c[at] + " : ""}v[z];
  }
}
`
}

/**
 * The same product without workgroup memory or barriers, for software adapters: each invocation sums a
 * 4×4 block of C straight from A and B (64 invocations per workgroup along N, one workgroup row per 4
 * rows of C), k in order as the tiled kernel. llvmpipe runs a workgroup's invocations as SIMD lanes on
 * one CPU thread and pays for every barrier with a switch between them; there this kernel is several
 * times faster, while on a GPU the staged tiles win. Same bindings and uniform as gemm.
 */
export const gemmRegisterTiled = (s: Pick<GemmShape, "transA" | "transB" | "accumulate">): string => {
  const a = (r: string, k: string) => (s.transA ? `a[g.aOffset + (${k}) * g.M + ${r}]` : `a[g.aOffset + ${r} * g.K + (${k})]`)
  const b = (k: string, n: string) => (s.transB ? `b[g.bOffset + ${n} * g.K + (${k})]` : `b[g.bOffset + (${k}) * g.N + ${n}]`)
  const R = [0, 1, 2, 3]
  return `struct Gemm { M: u32, N: u32, K: u32, aOffset: u32, bOffset: u32, cOffset: u32 }
@group(0) @binding(0) ${ro("a")};
@group(0) @binding(1) ${ro("b")};
@group(0) @binding(2) ${rw("c")};
@group(0) @binding(3) var<uniform> g: Gemm;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= g.M || col0 >= g.N) { return; }
${R.map((q) => `  let r${q} = min(row0 + ${q}u, g.M - 1u);
  let n${q} = min(col0 + ${q}u, g.N - 1u);`).join("\n")}
${R.map((q) => `  var acc${q} = vec4<f32>(0.0);`).join("\n")}
  for (var k = 0u; k < g.K; k++) {
    let bv = vec4<f32>(${R.map((q) => b("k", `n${q}`)).join(", ")});
${R.map((q) => `    acc${q} = acc${q} + ${a(`r${q}`, "k")} * bv;`).join("\n")}
  }
${R.map((q) => `  store(row0 + ${q}u, col0, acc${q});`).join("\n")}
}

fn store(row: u32, col: u32, v: vec4<f32>) {
  if (row >= g.M) { return; }
  for (var z = 0u; z < 4u; z++) {
    if (col + z >= g.N) { return; }
    let at = g.cOffset + row * g.N + col + z;
    c[at] = ${s.accumulate ? "c[at] + " : ""}v[z];
  }
}
`
}

/** The GEMM an adapter gets (software: register-tiled, no barriers; hardware: workgroup tiles), its workgroup grid, and its name for the start-up log. */
export const gemmFor = (software: boolean) =>
  software
    ? { name: "4x4 outputs per thread, no workgroup memory (software adapter: barriers cost a thread switch)", source: gemmRegisterTiled, groups: (s: GemmShape): readonly [number, number] => [Math.ceil(s.N / 256), Math.ceil(s.M / 4)] }
    : { name: `tiles ${GEMM_TILE.rows}x${GEMM_TILE.cols}, K step ${GEMM_TILE.depth}, ${GEMM_TILE.threadsX}x${GEMM_TILE.threadsY} threads of ${GEMM_TILE.perThread}x${GEMM_TILE.perThread} outputs`, source: gemm, groups: gemmGroups }

export interface InnerProductShape {
  /** Rows (count before the axis), inputs per row, outputs. */
  readonly M: number
  readonly K: number
  readonly N: number
  readonly transpose: boolean
  readonly weightOffset: number
  readonly biasOffset: number
}

const weightIndex = (s: InnerProductShape, o: string, k: string): string =>
  s.transpose ? `${u(s.weightOffset)} + ${k} * ${u(s.N)} + ${o}` : `${u(s.weightOffset)} + ${o} * ${u(s.K)} + ${k}`

/** y[m,o] = Σ_k x[m,k]·W[o,k] + b[o]. Bindings: x, params, y. */
export const innerProductForward = (s: InnerProductShape): string =>
  kernel(s.M * s.N, [ro("x"), ro("p"), rw("y")], `
  let o = i % ${u(s.N)};
  let m = i / ${u(s.N)};
  var sum = 0.0;
  for (var k = 0u; k < ${u(s.K)}; k++) { sum = sum + x[m * ${u(s.K)} + k] * p[${weightIndex(s, "o", "k")}]; }
  ${s.biasOffset >= 0 ? `sum = sum + p[${u(s.biasOffset)} + o];` : ""}
  y[i] = sum;`)

/** y[m,o] += b[o] over an M×N output. Bindings: params, y. */
export const addBias = (M: number, N: number, biasOffset: number): string =>
  kernel(M * N, [ro("p"), rw("y")], `  y[i] = y[i] + p[${u(biasOffset)} + i % ${u(N)}];`)

/** dx[m,k] = Σ_o dy[m,o]·W[o,k] (overwrites). Bindings: dy, params, dx. */
export const innerProductBackwardData = (s: InnerProductShape): string =>
  kernel(s.M * s.K, [ro("dy"), ro("p"), rw("dx")], `
  let k = i % ${u(s.K)};
  let m = i / ${u(s.K)};
  var sum = 0.0;
  for (var o = 0u; o < ${u(s.N)}; o++) { sum = sum + dy[m * ${u(s.N)} + o] * p[${weightIndex(s, "o", "k")}]; }
  dx[i] = sum;`)

/** dW[o,k] += Σ_m dy[m,o]·x[m,k] (accumulates). Bindings: dy, x, paramDiff. */
export const innerProductBackwardWeight = (s: InnerProductShape): string =>
  kernel(s.N * s.K, [ro("dy"), ro("x"), rw("pd")], `
  ${s.transpose ? `let o = i % ${u(s.N)};\n  let k = i / ${u(s.N)};` : `let k = i % ${u(s.K)};\n  let o = i / ${u(s.K)};`}
  var sum = 0.0;
  for (var m = 0u; m < ${u(s.M)}; m++) { sum = sum + dy[m * ${u(s.N)} + o] * x[m * ${u(s.K)} + k]; }
  pd[${u(s.weightOffset)} + i] = pd[${u(s.weightOffset)} + i] + sum;`)

export interface PoolShape {
  readonly planes: number
  readonly height: number
  readonly width: number
  readonly kernelH: number
  readonly kernelW: number
  readonly padH: number
  readonly padW: number
  readonly strideH: number
  readonly strideW: number
  readonly pooledH: number
  readonly pooledW: number
}

/** Caffe's MAX pooling: first strict maximum in the clipped window; mask = h·W + w. Bindings: x, y, mask. */
export const maxPoolForward = (s: PoolShape): string =>
  kernel(s.planes * s.pooledH * s.pooledW, [ro("x"), rw("y"), rw("mask", "i32")], `
  let pw = i32(i % ${u(s.pooledW)});
  let ph = i32((i / ${u(s.pooledW)}) % ${u(s.pooledH)});
  let plane = i / ${u(s.pooledW * s.pooledH)};
  let hs = max(ph * ${i(s.strideH)} - ${i(s.padH)}, 0);
  let ws = max(pw * ${i(s.strideW)} - ${i(s.padW)}, 0);
  let he = min(ph * ${i(s.strideH)} - ${i(s.padH)} + ${i(s.kernelH)}, ${i(s.height)});
  let we = min(pw * ${i(s.strideW)} - ${i(s.padW)} + ${i(s.kernelW)}, ${i(s.width)});
  let base = plane * ${u(s.height * s.width)};
  var best = bitcast<f32>(0xff7fffffu);
  var arg = -1i;
  for (var h = hs; h < he; h++) {
    for (var w = ws; w < we; w++) {
      let v = x[base + u32(h * ${i(s.width)} + w)];
      if (v > best) { best = v; arg = h * ${i(s.width)} + w; }
    }
  }
  y[i] = best;
  mask[i] = arg;`)

/** dx[plane,h,w] = Σ dy over the windows whose argmax is (h,w) (overwrites; Caffe's GPU gather). Bindings: dy, mask, dx. */
export const maxPoolBackward = (s: PoolShape): string =>
  kernel(s.planes * s.height * s.width, [ro("dy"), ro("mask", "i32"), rw("dx")], `
  let w = i32(i % ${u(s.width)});
  let h = i32((i / ${u(s.width)}) % ${u(s.height)});
  let plane = i / ${u(s.height * s.width)};
  let phs = select((h + ${i(s.padH)} - ${i(s.kernelH)}) / ${i(s.strideH)} + 1, 0i, h + ${i(s.padH)} < ${i(s.kernelH)});
  let phe = min((h + ${i(s.padH)}) / ${i(s.strideH)} + 1, ${i(s.pooledH)});
  let pws = select((w + ${i(s.padW)} - ${i(s.kernelW)}) / ${i(s.strideW)} + 1, 0i, w + ${i(s.padW)} < ${i(s.kernelW)});
  let pwe = min((w + ${i(s.padW)}) / ${i(s.strideW)} + 1, ${i(s.pooledW)});
  let base = plane * ${u(s.pooledH * s.pooledW)};
  let me = h * ${i(s.width)} + w;
  var sum = 0.0;
  for (var ph = phs; ph < phe; ph++) {
    for (var pw = pws; pw < pwe; pw++) {
      let k = base + u32(ph * ${i(s.pooledW)} + pw);
      if (mask[k] == me) { sum = sum + dy[k]; }
    }
  }
  dx[i] = sum;`)

/** Caffe's AVE pooling: the window's sum over the padded window's size (clipped at the padded edge). Bindings: x, y. */
export const avePoolForward = (s: PoolShape): string =>
  kernel(s.planes * s.pooledH * s.pooledW, [ro("x"), rw("y")], `
  let pw = i32(i % ${u(s.pooledW)});
  let ph = i32((i / ${u(s.pooledW)}) % ${u(s.pooledH)});
  let plane = i / ${u(s.pooledW * s.pooledH)};
  var hs = ph * ${i(s.strideH)} - ${i(s.padH)};
  var ws = pw * ${i(s.strideW)} - ${i(s.padW)};
  var he = min(hs + ${i(s.kernelH)}, ${i(s.height + s.padH)});
  var we = min(ws + ${i(s.kernelW)}, ${i(s.width + s.padW)});
  let size = f32((he - hs) * (we - ws));
  hs = max(hs, 0);
  ws = max(ws, 0);
  he = min(he, ${i(s.height)});
  we = min(we, ${i(s.width)});
  let base = plane * ${u(s.height * s.width)};
  var sum = 0.0;
  for (var h = hs; h < he; h++) {
    for (var w = ws; w < we; w++) { sum = sum + x[base + u32(h * ${i(s.width)} + w)]; }
  }
  y[i] = sum / size;`)

/** dx[plane,h,w] = Σ over the windows covering (h,w) of dy / window size (overwrites; Caffe's GPU gather). Bindings: dy, dx. */
export const avePoolBackward = (s: PoolShape): string =>
  kernel(s.planes * s.height * s.width, [ro("dy"), rw("dx")], `
  let w = i32(i % ${u(s.width)}) + ${i(s.padW)};
  let h = i32((i / ${u(s.width)}) % ${u(s.height)}) + ${i(s.padH)};
  let plane = i / ${u(s.height * s.width)};
  let phs = select((h - ${i(s.kernelH)}) / ${i(s.strideH)} + 1, 0i, h < ${i(s.kernelH)});
  let phe = min(h / ${i(s.strideH)} + 1, ${i(s.pooledH)});
  let pws = select((w - ${i(s.kernelW)}) / ${i(s.strideW)} + 1, 0i, w < ${i(s.kernelW)});
  let pwe = min(w / ${i(s.strideW)} + 1, ${i(s.pooledW)});
  let base = plane * ${u(s.pooledH * s.pooledW)};
  var sum = 0.0;
  for (var ph = phs; ph < phe; ph++) {
    for (var pw = pws; pw < pwe; pw++) {
      let hs = ph * ${i(s.strideH)} - ${i(s.padH)};
      let ws = pw * ${i(s.strideW)} - ${i(s.padW)};
      let he = min(hs + ${i(s.kernelH)}, ${i(s.height + s.padH)});
      let we = min(ws + ${i(s.kernelW)}, ${i(s.width + s.padW)});
      sum = sum + dy[base + u32(ph * ${i(s.pooledW)} + pw)] / f32((he - hs) * (we - ws));
    }
  }
  dx[i] = sum;`)

/** y = max(x,0) + slope·min(x,0); in place (one binding) or x → y. */
export const reluForward = (n: number, slope: number, inPlace: boolean): string =>
  inPlace
    ? kernel(n, [rw("y")], `  let v = y[i];\n  y[i] = max(v, 0.0) + ${f(slope)} * min(v, 0.0);`)
    : kernel(n, [ro("x"), rw("y")], `  let v = x[i];\n  y[i] = max(v, 0.0) + ${f(slope)} * min(v, 0.0);`)

/** dx = dy·(x > 0 ? 1 : slope); in place (dy === dx) or not. Bindings: x, dy, dx | x, dx. */
export const reluBackward = (n: number, slope: number, inPlace: boolean): string =>
  inPlace
    ? kernel(n, [ro("x"), rw("dx")], `  dx[i] = dx[i] * select(${f(slope)}, 1.0, x[i] > 0.0);`)
    : kernel(n, [ro("x"), ro("dy"), rw("dx")], `  dx[i] = dy[i] * select(${f(slope)}, 1.0, x[i] > 0.0);`)

/** Elementwise forward (Sigmoid, TanH) x → y, in place allowed (one binding). */
const unaryForward: Readonly<Record<string, string>> = {
  Sigmoid: "0.5 * tanh(0.5 * v) + 0.5",
  TanH: "tanh(v)"
}
/** Their backward from the top data y: dx = dy·f'(y). */
const unaryBackward: Readonly<Record<string, string>> = {
  Sigmoid: "d * y * (1.0 - y)",
  TanH: "d * (1.0 - y * y)"
}

export const unaryLayerForward = (type: string, n: number, inPlace: boolean): string =>
  inPlace
    ? kernel(n, [rw("y")], `  let v = y[i];\n  y[i] = ${unaryForward[type]!};`)
    : kernel(n, [ro("x"), rw("y")], `  let v = x[i];\n  y[i] = ${unaryForward[type]!};`)

/** Bindings: top data, dy, dx | top data, dx (in place). */
export const unaryLayerBackward = (type: string, n: number, inPlace: boolean): string =>
  inPlace
    ? kernel(n, [ro("top"), rw("dx")], `  let y = top[i];\n  let d = dx[i];\n  dx[i] = ${unaryBackward[type]!};`)
    : kernel(n, [ro("top"), ro("dy"), rw("dx")], `  let y = top[i];\n  let d = dy[i];\n  dx[i] = ${unaryBackward[type]!};`)

/**
 * Inverted dropout in TRAIN: keep with probability 1 − ratio (a counter-based hash of the element and
 * the iteration's seed, not the host Rng's stream), y = x·keep·scale; the mask is kept for backward.
 * Bindings: seed uniform, x, y, mask | seed, y, mask (in place).
 */
export const dropoutForward = (n: number, ratio: number, scale: number, salt: number, inPlace: boolean): string =>
  kernel(n, ["var<uniform> seed: vec4<u32>", ...(inPlace ? [] : [ro("x")]), rw("y"), rw("mask", "u32")], `
  var h = i * 747796405u + seed.x * 2891336453u + ${u(salt)} * 1181783497u;
  h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
  h = (h >> 22u) ^ h;
  let keep = select(0u, 1u, f32(h >> 8u) * (1.0 / 16777216.0) >= ${f(ratio)});
  mask[i] = keep;
  y[i] = ${inPlace ? "y" : "x"}[i] * f32(keep) * ${f(scale)};`)

/** dx = dy·mask·scale. Bindings: mask, dy, dx | mask, dx (in place). */
export const dropoutBackward = (n: number, scale: number, inPlace: boolean): string =>
  inPlace
    ? kernel(n, [ro("mask", "u32"), rw("dx")], `  dx[i] = dx[i] * f32(mask[i]) * ${f(scale)};`)
    : kernel(n, [ro("mask", "u32"), ro("dy"), rw("dx")], `  dx[i] = dy[i] * f32(mask[i]) * ${f(scale)};`)

export interface LrnShape {
  readonly num: number
  readonly channels: number
  readonly spatial: number
  readonly size: number
  readonly alpha: number
  readonly beta: number
  readonly k: number
}

/** ACROSS_CHANNELS LRN: scale = k + α/n·Σ x² over the channel window, y = x·scale^−β. Bindings: x, y, scale. */
export const lrnForward = (s: LrnShape): string => {
  const pre = (s.size - 1) >> 1
  const post = s.size - 1 - pre
  return kernel(s.num * s.channels * s.spatial, [ro("x"), rw("y"), rw("scale")], `
  let p = i % ${u(s.spatial)};
  let c = i32((i / ${u(s.spatial)}) % ${u(s.channels)});
  let n = i / ${u(s.spatial * s.channels)};
  var sum = 0.0;
  for (var j = max(c - ${i(pre)}, 0); j <= min(c + ${i(post)}, ${i(s.channels - 1)}); j++) {
    let v = x[(n * ${u(s.channels)} + u32(j)) * ${u(s.spatial)} + p];
    sum = sum + v * v;
  }
  let sc = ${f(s.k)} + ${f(s.alpha / s.size)} * sum;
  scale[i] = sc;
  y[i] = x[i] * pow(sc, ${f(-s.beta)});`)
}

/**
 * dx = dy·scale^−β − (2αβ/n)·x·Σ_{c' whose window holds c} dy·y/scale. Bindings: x, y, scale, dy, dx.
 */
export const lrnBackward = (s: LrnShape): string => {
  const pre = (s.size - 1) >> 1
  const post = s.size - 1 - pre
  return kernel(s.num * s.channels * s.spatial, [ro("x"), ro("y"), ro("scale"), ro("dy"), rw("dx")], `
  let p = i % ${u(s.spatial)};
  let c = i32((i / ${u(s.spatial)}) % ${u(s.channels)});
  let n = i / ${u(s.spatial * s.channels)};
  var acc = 0.0;
  for (var j = max(c - ${i(post)}, 0); j <= min(c + ${i(pre)}, ${i(s.channels - 1)}); j++) {
    let at = (n * ${u(s.channels)} + u32(j)) * ${u(s.spatial)} + p;
    acc = acc + dy[at] * y[at] / scale[at];
  }
  dx[i] = dy[i] * pow(scale[i], ${f(-s.beta)}) - ${f((2 * s.alpha * s.beta) / s.size)} * x[i] * acc;`)
}

/** dx = Σ_k dy_k over a Split's tops (2 or more, reduced pairwise into dx). Bindings: a, b, dx. */
export const addInto = (n: number, first: boolean): string =>
  first
    ? kernel(n, [ro("a"), ro("b"), rw("dx")], `  dx[i] = a[i] + b[i];`)
    : kernel(n, [ro("a"), rw("dx")], `  dx[i] = dx[i] + a[i];`)

export interface SoftmaxLossShape {
  readonly outer: number
  readonly channels: number
  readonly inner: number
  /** Label that contributes nothing (undefined: none). */
  readonly ignoreLabel: number | undefined
}

/**
 * Per position: max-subtracted softmax into prob, −log(max(prob[label], FLT_MIN)) into perPos and
 * 1/0 (counted / ignored) into valid. Bindings: x, label, prob, perPos, valid.
 */
export const softmaxLossForward = (s: SoftmaxLossShape): string =>
  kernel(s.outer * s.inner, [ro("x"), ro("label"), rw("prob"), rw("perPos"), rw("valid")], `
  let j = i % ${u(s.inner)};
  let n = i / ${u(s.inner)};
  let base = n * ${u(s.channels * s.inner)} + j;
  var m = x[base];
  for (var c = 1u; c < ${u(s.channels)}; c++) { m = max(m, x[base + c * ${u(s.inner)}]); }
  var sum = 0.0;
  for (var c = 0u; c < ${u(s.channels)}; c++) {
    let e = exp(x[base + c * ${u(s.inner)}] - m);
    prob[base + c * ${u(s.inner)}] = e;
    sum = sum + e;
  }
  for (var c = 0u; c < ${u(s.channels)}; c++) { prob[base + c * ${u(s.inner)}] = prob[base + c * ${u(s.inner)}] / sum; }
  let l = i32(label[i]);
  ${s.ignoreLabel !== undefined ? `if (l == ${i(s.ignoreLabel)}) { perPos[i] = 0.0; valid[i] = 0.0; return; }` : ""}
  perPos[i] = -log(max(prob[base + u32(l) * ${u(s.inner)}], 1.17549435e-38));
  valid[i] = 1.0;`)

/** Caffe's normalizer as WGSL over the valid count `v`. */
const normalizer = (mode: string, outer: number, inner: number): string => {
  switch (mode) {
    case "FULL":
      return `${f(outer * inner)}`
    case "BATCH_SIZE":
      return `${f(outer)}`
    case "NONE":
      return "1.0"
    default:
      return "v"
  }
}

/** One thread: top = Σ perPos / normalizer; stats = [Σ perPos, valid count]. Bindings: perPos, valid, top, stats. */
export const lossReduce = (count: number, mode: string, outer: number, inner: number): string =>
  kernel(1, [ro("perPos"), ro("valid"), rw("top"), rw("stats")], `
  var sum = 0.0;
  var v = 0.0;
  for (var k = 0u; k < ${u(count)}; k++) { sum = sum + perPos[k]; v = v + valid[k]; }
  stats[0] = sum;
  stats[1] = v;
  top[0] = sum / max(${normalizer(mode, outer, inner)}, 1.0);`)

/** dx = (prob − onehot(label))·weight/normalizer, zero at ignored positions. Bindings: prob, label, stats, dx. */
export const softmaxLossBackward = (s: SoftmaxLossShape, mode: string, lossWeight: number): string =>
  kernel(s.outer * s.channels * s.inner, [ro("prob"), ro("label"), ro("stats"), rw("dx")], `
  let j = i % ${u(s.inner)};
  let c = (i / ${u(s.inner)}) % ${u(s.channels)};
  let n = i / ${u(s.channels * s.inner)};
  let l = i32(label[n * ${u(s.inner)} + j]);
  let v = stats[1];
  let scale = ${f(lossWeight)} / max(${normalizer(mode, s.outer, s.inner)}, 1.0);
  ${s.ignoreLabel !== undefined ? `if (l == ${i(s.ignoreLabel)}) { dx[i] = 0.0; return; }` : ""}
  dx[i] = (prob[i] - select(0.0, 1.0, i32(c) == l)) * scale;`)

/** Per position: 1 when at most topK classes score ≥ the true class (Caffe's ties rule), valid flag. Bindings: x, label, hit, valid. */
export const accuracyPerPosition = (s: SoftmaxLossShape, topK: number): string =>
  kernel(s.outer * s.inner, [ro("x"), ro("label"), rw("hit"), rw("valid")], `
  let j = i % ${u(s.inner)};
  let n = i / ${u(s.inner)};
  let base = n * ${u(s.channels * s.inner)} + j;
  let l = i32(label[i]);
  ${s.ignoreLabel !== undefined ? `if (l == ${i(s.ignoreLabel)}) { hit[i] = 0.0; valid[i] = 0.0; return; }` : ""}
  let truth = x[base + u32(l) * ${u(s.inner)}];
  var better = -1i;
  for (var c = 0u; c < ${u(s.channels)}; c++) { better = better + select(0i, 1i, x[base + c * ${u(s.inner)}] >= truth); }
  hit[i] = select(0.0, 1.0, better < ${i(topK)});
  valid[i] = 1.0;`)

/** One thread: top = Σ hit / Σ valid (0 when none). Bindings: hit, valid, top. */
export const accuracyReduce = (count: number): string =>
  kernel(1, [ro("hit"), ro("valid"), rw("top")], `
  var h = 0.0;
  var v = 0.0;
  for (var k = 0u; k < ${u(count)}; k++) { h = h + hit[k]; v = v + valid[k]; }
  top[0] = select(0.0, h / v, v > 0.0);`)

/** The per-element step of each solver, from g (the regularised gradient), h / h2 (its histories). */
const solverStep: Readonly<Record<string, string>> = {
  SGD: `  let v = q.x * g + u.g.x * hist[k];
  hist[k] = v;
  let step = v;`,
  Nesterov: `  let prev = hist[k];
  let next = q.x * g + u.g.x * prev;
  hist[k] = next;
  let step = (1.0 + u.g.x) * next - u.g.x * prev;`,
  AdaGrad: `  let h = hist[k] + g * g;
  hist[k] = h;
  let step = q.x * (g / (sqrt(h) + u.g.z));`,
  RMSProp: `  let h = (1.0 - u.g.w) * (g * g) + u.g.w * hist[k];
  hist[k] = h;
  let step = q.x * (g / (sqrt(h) + u.g.z));`,
  AdaDelta: `  let h1 = (1.0 - u.g.x) * (g * g) + u.g.x * hist[k];
  hist[k] = h1;
  let d = sqrt((u.g.z + hist2[k]) / (u.g.z + h1)) * g;
  hist2[k] = (1.0 - u.g.x) * (d * d) + u.g.x * hist2[k];
  let step = q.x * d;`,
  Adam: `  let m = (1.0 - u.g.x) * g + u.g.x * hist[k];
  let v = (1.0 - u.g.y) * (g * g) + u.g.y * hist2[k];
  hist[k] = m;
  hist2[k] = v;
  let step = q.x * (m / (sqrt(v) + u.g.z));`
}

/**
 * One solver update over the whole parameter arena in one dispatch (the host solvers' passes,
 * solvers/*.ts): g = decay·data + factor·diff (normalise, L2 regularise), the solver's step,
 * diff ← step, data ← data − step. Uniform: g = (momentum | β1, momentum2 | β2, delta, rms_decay);
 * r[k] = (local rate — times Adam's bias correction —, decay, factor, end offset of parameter k as u32
 * bits); each element finds its parameter by scanning the end offsets. Bindings: rates, data, diff,
 * history[, history2].
 */
export const solverUpdate = (type: string, count: number, slots: number): string => {
  const step = solverStep[type]
  if (step === undefined) throw new RangeError(`no device update for solver ${type}`)
  const two = type === "AdaDelta" || type === "Adam"
  return (
    `struct Rates { g: vec4<f32>, r: array<vec4<f32>, ${slots}> }\n` +
    kernel(count, ["var<uniform> u: Rates", rw("data"), rw("diff"), rw("hist"), ...(two ? [rw("hist2")] : [])], `
  var slot = 0u;
  while (slot < ${u(slots - 1)} && i >= bitcast<u32>(u.r[slot].w)) { slot = slot + 1u; }
  let q = u.r[slot];
  let k = i;
  let g = q.y * data[k] + diff[k] * q.z;
${step}
  diff[k] = step;
  data[k] = data[k] - step;`)
  )
}

/** The worker side of an elastic exchange: x_i ← α·x̃ + (1−α)·x_i (src/easgd's workerElastic). Bindings: center, params. */
export const workerElastic = (count: number, alpha: number): string =>
  kernel(count, [ro("center"), rw("x")], `  x[i] = ${f(alpha)} * center[i] + ${f(1 - Math.fround(alpha))} * x[i];`)

/** WGSL float literal that round-trips the f32 value. */
export const f = (x: number): string => {
  const v = Math.fround(x)
  if (!Number.isFinite(v)) throw new RangeError(`non-finite kernel constant ${x}`)
  const s = v.toPrecision(9)
  return `(${s.includes(".") || s.includes("e") ? s : `${s}.0`})`
}
