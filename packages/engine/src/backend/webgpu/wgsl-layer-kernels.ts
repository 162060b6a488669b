/**
 * WGSL kernels of the remaining ★ layers on the device-resident path: Concat / Slice (strided copies
 * along an axis), Eltwise, Softmax, Scale, BatchNorm, PReLU, Power, the per-channel bias of
 * Deconvolution, and the Euclidean and sigmoid cross-entropy losses. Same conventions as
 * wgsl-kernels.ts: shapes baked in as constants, one thread per output element (or per channel /
 * position for reductions), float32 sums in a fixed order.
 */
import { f, i, kernel, ro, rw, u } from "./wgsl-kernels.js"

/**
 * Concat forward / Slice backward (`toWhole`): part[n, c, r] ↔ whole[n, offset + c, r], for a part of
 * `partAxis` channels in a whole of `wholeAxis`, `inner` values per channel. Bindings: source, target.
 */
export const axisCopy = (outer: number, partAxis: number, wholeAxis: number, offset: number, inner: number, toWhole: boolean): string => {
  const whole = `(i / ${u(partAxis * inner)}) * ${u(wholeAxis * inner)} + ${u(offset * inner)} + i % ${u(partAxis * inner)}`
  return kernel(outer * partAxis * inner, [ro("src"), rw("dst")], toWhole ? `  dst[${whole}] = src[i];` : `  dst[i] = src[${whole}];`)
}

/** Eltwise SUM: y = a·ca + b·cb (first pair) or y += a·ca. Bindings: a, b, y | a, y. */
export const eltwiseSum = (n: number, ca: number, cb: number | undefined): string =>
  cb === undefined
    ? kernel(n, [ro("a"), rw("y")], `  y[i] = y[i] + ${f(ca)} * a[i];`)
    : kernel(n, [ro("a"), ro("b"), rw("y")], `  y[i] = ${f(ca)} * a[i] + ${f(cb)} * b[i];`)

/** Eltwise PROD: y = a·b (first pair) or y *= a. Bindings: a, b, y | a, y. */
export const eltwiseProd = (n: number, first: boolean): string =>
  first ? kernel(n, [ro("a"), ro("b"), rw("y")], `  y[i] = a[i] * b[i];`) : kernel(n, [ro("a"), rw("y")], `  y[i] = y[i] * a[i];`)

/** Eltwise MAX: y = max, mask = winning bottom (ties to the later bottom in the first pair, as Caffe). Bindings: a, b, y, mask | a, y, mask. */
export const eltwiseMax = (n: number, k: number): string =>
  k === 1
    ? kernel(n, [ro("a"), ro("b"), rw("y"), rw("mask", "i32")], `  if (a[i] > b[i]) { y[i] = a[i]; mask[i] = 0; } else { y[i] = b[i]; mask[i] = 1; }`)
    : kernel(n, [ro("a"), rw("y"), rw("mask", "i32")], `  if (a[i] > y[i]) { y[i] = a[i]; mask[i] = ${i(k)}; }`)

/** Eltwise backward: SUM dx = c·dy; MAX dx = dy where bottom k won. Bindings: dy, dx | mask, dy, dx. */
export const eltwiseSumBackward = (n: number, c: number): string => kernel(n, [ro("dy"), rw("dx")], `  dx[i] = ${f(c)} * dy[i];`)
export const eltwiseMaxBackward = (n: number, k: number): string =>
  kernel(n, [ro("mask", "i32"), ro("dy"), rw("dx")], `  dx[i] = select(0.0, dy[i], mask[i] == ${i(k)});`)

/** Eltwise PROD backward: dx = dy (first) then dx *= x_j for each other bottom j (stable_prod_grad); or dx = dy·y/x. Bindings: dy, dx | x, dx | y, x, dy, dx. */
export const copyInto = (n: number): string => kernel(n, [ro("a"), rw("y")], `  y[i] = a[i];`)
export const multiplyInto = (n: number): string => kernel(n, [ro("a"), rw("y")], `  y[i] = y[i] * a[i];`)
export const prodQuotientBackward = (n: number): string =>
  kernel(n, [ro("y"), ro("x"), ro("dy"), rw("dx")], `  dx[i] = (y[i] / x[i]) * dy[i];`)

/** Softmax along an axis of `channels`, per (outer, inner) position, max-subtracted; in place with one binding. Bindings: x, y | y. */
export const softmaxForward = (outer: number, channels: number, inner: number, inPlace: boolean): string => {
  const x = inPlace ? "y" : "x"
  return kernel(outer * inner, inPlace ? [rw("y")] : [ro("x"), rw("y")], `
  let base = (i / ${u(inner)}) * ${u(channels * inner)} + i % ${u(inner)};
  var m = ${x}[base];
  for (var c = 1u; c < ${u(channels)}; c++) { m = max(m, ${x}[base + c * ${u(inner)}]); }
  var sum = 0.0;
  for (var c = 0u; c < ${u(channels)}; c++) {
    let e = exp(${x}[base + c * ${u(inner)}] - m);
    y[base + c * ${u(inner)}] = e;
    sum = sum + e;
  }
  for (var c = 0u; c < ${u(channels)}; c++) { y[base + c * ${u(inner)}] = y[base + c * ${u(inner)}] / sum; }`)
}

/** Softmax backward: dx = (dy − Σ_c dy·y)·y per position; in place (dx is dy) with two bindings. Bindings: y, dy, dx | y, dx. */
export const softmaxBackward = (outer: number, channels: number, inner: number, inPlace: boolean): string => {
  const dy = inPlace ? "dx" : "dy"
  return kernel(outer * inner, inPlace ? [ro("y"), rw("dx")] : [ro("y"), ro("dy"), rw("dx")], `
  let base = (i / ${u(inner)}) * ${u(channels * inner)} + i % ${u(inner)};
  var dot = 0.0;
  for (var c = 0u; c < ${u(channels)}; c++) { dot = dot + ${dy}[base + c * ${u(inner)}] * y[base + c * ${u(inner)}]; }
  for (var c = 0u; c < ${u(channels)}; c++) {
    let k = base + c * ${u(inner)};
    dx[k] = (${dy}[k] - dot) * y[k];
  }`)
}

/** Scale: y = x·s[d] (+ b[d]), d = (i / inner) % dim. Bindings: x, s, y | x, s, params(bias), y. */
export const scaleForward = (n: number, dim: number, inner: number, scaleOffset: number, biasOffset: number): string =>
  kernel(n, biasOffset >= 0 ? [ro("x"), ro("s"), ro("p"), rw("y")] : [ro("x"), ro("s"), rw("y")], `
  let d = (i / ${u(inner)}) % ${u(dim)};
  y[i] = x[i] * s[${u(scaleOffset)} + d]${biasOffset >= 0 ? ` + p[${u(biasOffset)} + d]` : ""};`)

/** Scale backward to the bottom: dx = dy·s[d] (in place: dx is dy). Bindings: s, dy, dx | s, dx. */
export const scaleBackwardData = (n: number, dim: number, inner: number, scaleOffset: number, inPlace: boolean): string =>
  kernel(n, inPlace ? [ro("s"), rw("dx")] : [ro("s"), ro("dy"), rw("dx")], `
  let d = (i / ${u(inner)}) % ${u(dim)};
  dx[i] = ${inPlace ? "dx" : "dy"}[i] * s[${u(scaleOffset)} + d];`)

/**
 * Per factor d: Σ over (outer, inner) of dy·x (or of dy alone, `withX` false), added into the
 * arena at `offset` (a learned factor accumulates) or written (`accumulate` false: a bottom's diff).
 * Bindings: dy, x, target | dy, target.
 */
export const factorReduce = (outer: number, dim: number, inner: number, offset: number, withX: boolean, accumulate: boolean): string =>
  kernel(dim, withX ? [ro("dy"), ro("x"), rw("t")] : [ro("dy"), rw("t")], `
  var sum = 0.0;
  for (var n = 0u; n < ${u(outer)}; n++) {
    let base = (n * ${u(dim)} + i) * ${u(inner)};
    for (var k = 0u; k < ${u(inner)}; k++) { sum = sum + dy[base + k]${withX ? " * x[base + k]" : ""}; }
  }
  t[${u(offset)} + i] = ${accumulate ? `t[${u(offset)} + i] + ` : ""}sum;`)

/** y[n, c, s] += b[c] over `channels` channels of `spatial` values (Deconvolution's bias). Bindings: params, y. */
export const addChannelBias = (n: number, channels: number, spatial: number, biasOffset: number): string =>
  kernel(n, [ro("p"), rw("y")], `  y[i] = y[i] + p[${u(biasOffset)} + (i / ${u(spatial)}) % ${u(channels)}];`)

export interface BatchNormShape {
  readonly num: number
  readonly channels: number
  readonly spatial: number
  readonly eps: number
  readonly movingAverageFraction: number
  /** Arena offsets of the running mean, the running variance and the scale factor. */
  readonly meanOffset: number
  readonly varianceOffset: number
  readonly factorOffset: number
}

/**
 * One thread per channel: the statistics the normalisation uses into stats = [mean…, std…]. Batch
 * statistics (TRAIN) also update the running averages in the arena, as Caffe: s ← s·λ + 1,
 * mean ← μ + λ·mean, var ← m/(m−1)·σ² + λ·var; global statistics read them, scaled by 1/s.
 * Bindings: x, params (rw), stats | params, stats (global).
 */
export const batchNormStats = (s: BatchNormShape, global: boolean): string => {
  const m = s.num * s.spatial
  const correction = m > 1 ? Math.fround(m / (m - 1)) : 1
  const body = global
    ? `
  let sf = p[${u(s.factorOffset)}];
  let factor = select(1.0 / sf, 0.0, sf == 0.0);
  let mean = factor * p[${u(s.meanOffset)} + i];
  let variance = factor * p[${u(s.varianceOffset)} + i];`
    : `
  var sum = 0.0;
  for (var n = 0u; n < ${u(s.num)}; n++) {
    let base = (n * ${u(s.channels)} + i) * ${u(s.spatial)};
    for (var k = 0u; k < ${u(s.spatial)}; k++) { sum = sum + x[base + k]; }
  }
  let mean = sum / ${f(m)};
  var sq = 0.0;
  for (var n = 0u; n < ${u(s.num)}; n++) {
    let base = (n * ${u(s.channels)} + i) * ${u(s.spatial)};
    for (var k = 0u; k < ${u(s.spatial)}; k++) { let d = x[base + k] - mean; sq = sq + d * d; }
  }
  let variance = sq / ${f(m)};
  if (i == 0u) { p[${u(s.factorOffset)}] = p[${u(s.factorOffset)}] * ${f(s.movingAverageFraction)} + 1.0; }
  p[${u(s.meanOffset)} + i] = mean + ${f(s.movingAverageFraction)} * p[${u(s.meanOffset)} + i];
  p[${u(s.varianceOffset)} + i] = ${f(correction)} * variance + ${f(s.movingAverageFraction)} * p[${u(s.varianceOffset)} + i];`
  return kernel(s.channels, global ? [ro("p"), rw("stats")] : [ro("x"), rw("p"), rw("stats")], `${body}
  stats[i] = mean;
  stats[${u(s.channels)} + i] = sqrt(variance + ${f(s.eps)});`)
}

/** y = (x − μ_c)/σ_c, also kept in xNorm for backward (in place: x is y). Bindings: stats, x, y, xNorm | stats, y, xNorm. */
export const batchNormApply = (s: BatchNormShape, inPlace: boolean): string =>
  kernel(s.num * s.channels * s.spatial, inPlace ? [ro("stats"), rw("y"), rw("xn")] : [ro("stats"), ro("x"), rw("y"), rw("xn")], `
  let c = (i / ${u(s.spatial)}) % ${u(s.channels)};
  let v = (${inPlace ? "y" : "x"}[i] - stats[c]) / stats[${u(s.channels)} + c];
  y[i] = v;
  xn[i] = v;`)

/** Per channel: [Σ dy, Σ dy·xNorm] into sums. Bindings: dy, xNorm, sums. */
export const batchNormBackwardSums = (s: BatchNormShape): string =>
  kernel(s.channels, [ro("dy"), ro("xn"), rw("sums")], `
  var a = 0.0;
  var b = 0.0;
  for (var n = 0u; n < ${u(s.num)}; n++) {
    let base = (n * ${u(s.channels)} + i) * ${u(s.spatial)};
    for (var k = 0u; k < ${u(s.spatial)}; k++) { a = a + dy[base + k]; b = b + dy[base + k] * xn[base + k]; }
  }
  sums[i] = a;
  sums[${u(s.channels)} + i] = b;`)

/**
 * dx = (dy − Σdy/m − xNorm·Σ(dy·xNorm)/m)/σ (batch statistics) or dy/σ (global); in place: dx is dy.
 * Bindings: stats, sums, xNorm (batch statistics only), then dy (unless in place), dx.
 */
export const batchNormBackward = (s: BatchNormShape, global: boolean, inPlace: boolean): string => {
  const m = s.num * s.spatial
  const dy = inPlace ? "dx" : "dy"
  const inputs = global ? [ro("stats")] : [ro("stats"), ro("sums"), ro("xn")]
  return kernel(s.num * s.channels * s.spatial, inPlace ? [...inputs, rw("dx")] : [...inputs, ro("dy"), rw("dx")], `
  let c = (i / ${u(s.spatial)}) % ${u(s.channels)};
  ${global ? `dx[i] = ${dy}[i] / stats[${u(s.channels)} + c];` : `dx[i] = (${dy}[i] - sums[c] / ${f(m)} - xn[i] * (sums[${u(s.channels)} + c] / ${f(m)})) / stats[${u(s.channels)} + c];`}`)
}

/** PReLU: y = max(x,0) + a[c]·min(x,0), c = (i / spatial) % channels (channel_shared: 1 channel). Bindings: x, params, y. */
export const preluForward = (n: number, channels: number, spatial: number, slopeOffset: number): string =>
  kernel(n, [ro("x"), ro("p"), rw("y")], `
  let c = (i / ${u(spatial)}) % ${u(channels)};
  let v = x[i];
  y[i] = max(v, 0.0) + p[${u(slopeOffset)} + c] * min(v, 0.0);`)

/** PReLU to the bottom: dx = dy·(x > 0 ? 1 : a[c]) (in place: dx is dy). Bindings: x, params, dy, dx | x, params, dx. */
export const preluBackwardData = (n: number, channels: number, spatial: number, slopeOffset: number, inPlace: boolean): string =>
  kernel(n, inPlace ? [ro("x"), ro("p"), rw("dx")] : [ro("x"), ro("p"), ro("dy"), rw("dx")], `
  let c = (i / ${u(spatial)}) % ${u(channels)};
  dx[i] = ${inPlace ? "dx" : "dy"}[i] * select(p[${u(slopeOffset)} + c], 1.0, x[i] > 0.0);`)

/** PReLU slopes: da[c] += Σ dy·x over x ≤ 0 of channel c. Bindings: dy, x, paramDiff. */
export const preluBackwardSlope = (num: number, channels: number, spatial: number, shared: boolean, slopeOffset: number): string =>
  kernel(shared ? 1 : channels, [ro("dy"), ro("x"), rw("pd")], `
  var sum = 0.0;
  for (var n = 0u; n < ${u(num)}; n++) {
    for (var c = ${shared ? "0u" : "i"}; c < ${shared ? u(channels) : "i + 1u"}; c++) {
      let base = (n * ${u(channels)} + c) * ${u(spatial)};
      for (var k = 0u; k < ${u(spatial)}; k++) { let v = x[base + k]; if (v <= 0.0) { sum = sum + dy[base + k] * v; } }
    }
  }
  pd[${u(slopeOffset)} + i] = pd[${u(slopeOffset)} + i] + sum;`)

/** base^power for any base: integer powers of negative bases keep their sign (WGSL's pow is undefined there). */
const powerOf = (base: string, power: number): string => {
  if (power === 1) return base
  if (power === 2) return `(${base} * ${base})`
  if (Number.isInteger(power)) {
    const magnitude = `pow(abs(${base}), ${f(power)})`
    return Math.abs(power) % 2 === 1 ? `(sign(${base}) * ${magnitude})` : magnitude
  }
  return `pow(${base}, ${f(power)})`
}

/** Power: y = (shift + scale·x)^power (in place with one binding). Bindings: x, y | y. */
export const powerForward = (n: number, power: number, scale: number, shift: number, inPlace: boolean): string =>
  kernel(n, inPlace ? [rw("y")] : [ro("x"), rw("y")], `
  let b = ${f(shift)} + ${f(scale)} * ${inPlace ? "y" : "x"}[i];
  y[i] = ${power === 0 ? "1.0" : powerOf("b", power)};`)

/** Power backward: dx = dy·power·scale·(shift + scale·x)^(power−1) (0 when power or scale is 0). Bindings: x, dy, dx. */
export const powerBackward = (n: number, power: number, scale: number, shift: number): string =>
  kernel(n, [ro("x"), ro("dy"), rw("dx")], `
  let b = ${f(shift)} + ${f(scale)} * x[i];
  dx[i] = ${power === 0 || scale === 0 ? "0.0" : `dy[i] * ${f(power * scale)} * ${power === 1 ? "1.0" : powerOf("b", power - 1)}`};`)

/** Euclidean loss, one thread: diff = a − b, top = Σ diff² / (2·num). Bindings: a, b, diff, top. */
export const euclideanForward = (count: number, num: number): string =>
  kernel(1, [ro("a"), ro("b"), rw("d"), rw("top")], `
  var sum = 0.0;
  for (var k = 0u; k < ${u(count)}; k++) { let v = a[k] - b[k]; d[k] = v; sum = sum + v * v; }
  top[0] = sum / ${f(2 * num)};`)

/** Its backward to bottom `sign` (+1 the first, −1 the second): dx = sign·weight·diff/num. Bindings: diff, dx. */
export const euclideanBackward = (count: number, num: number, scale: number): string =>
  kernel(count, [ro("d"), rw("dx")], `  dx[i] = ${f(scale / num)} * d[i];`)

/** Sigmoid cross-entropy loss, one thread: top = Σ loss / normalizer; stats[0] = normalizer. Bindings: x, t, top, stats. */
export const sigmoidCrossEntropyForward = (count: number, ignoreLabel: number | undefined, normalizer: string): string =>
  kernel(1, [ro("x"), ro("t"), rw("top"), rw("stats")], `
  var loss = 0.0;
  var v = 0.0;
  for (var k = 0u; k < ${u(count)}; k++) {
    ${ignoreLabel !== undefined ? `if (i32(trunc(t[k])) == ${i(ignoreLabel)}) { continue; }` : ""}
    let z = x[k];
    let pos = select(0.0, 1.0, z >= 0.0);
    loss = loss - (z * (t[k] - pos) - log(1.0 + exp(z - 2.0 * z * pos)));
    v = v + 1.0;
  }
  let norm = max(${normalizer}, 1.0);
  stats[0] = norm;
  top[0] = loss / norm;`)

/** dx = (σ(x) − t)·weight/normalizer, 0 where the target is ignored. Bindings: x, t, stats, dx. */
export const sigmoidCrossEntropyBackward = (count: number, ignoreLabel: number | undefined, weight: number): string =>
  kernel(count, [ro("x"), ro("t"), ro("stats"), rw("dx")], `
  ${ignoreLabel !== undefined ? `if (i32(trunc(t[i])) == ${i(ignoreLabel)}) { dx[i] = 0.0; return; }` : ""}
  let s = 0.5 * tanh(0.5 * x[i]) + 0.5;
  dx[i] = (s - t[i]) * ${f(weight)} / stats[0];`)

/**
 * WITHIN_CHANNEL LRN (Caffe's square → AVE pool (n, stride 1, pad (n−1)/2) → power → product, computed
 * directly: every window's divisor is n²): s = 1 + α/n²·Σ_{n×n window, zero-padded} x², y = x·s^(−β).
 * Bindings: x, y, scale.
 */
export const lrnWithinForward = (s: { readonly planes: number; readonly height: number; readonly width: number; readonly size: number; readonly alpha: number; readonly beta: number }): string => {
  const half = (s.size - 1) / 2
  return kernel(s.planes * s.height * s.width, [ro("x"), rw("y"), rw("scale")], `
  let w = i32(i % ${u(s.width)});
  let h = i32((i / ${u(s.width)}) % ${u(s.height)});
  let base = (i / ${u(s.height * s.width)}) * ${u(s.height * s.width)};
  var sum = 0.0;
  for (var a = max(h - ${i(half)}, 0); a <= min(h + ${i(half)}, ${i(s.height - 1)}); a++) {
    for (var b = max(w - ${i(half)}, 0); b <= min(w + ${i(half)}, ${i(s.width - 1)}); b++) {
      let v = x[base + u32(a * ${i(s.width)} + b)];
      sum = sum + v * v;
    }
  }
  let sc = 1.0 + ${f(s.alpha / (s.size * s.size))} * sum;
  scale[i] = sc;
  y[i] = x[i] * pow(sc, ${f(-s.beta)});`)
}

/** Its backward, first pass: r = dy·x·s^(−β−1). Bindings: x, scale, dy, r. */
export const lrnWithinBackwardTerms = (n: number, beta: number): string =>
  kernel(n, [ro("x"), ro("scale"), ro("dy"), rw("r")], `  r[i] = dy[i] * x[i] * pow(scale[i], ${f(-beta - 1)});`)

/** Second pass: dx = dy·s^(−β) − (2αβ/n²)·x·Σ_{windows holding this pixel} r. Bindings: x, scale, dy, r, dx. */
export const lrnWithinBackward = (s: { readonly planes: number; readonly height: number; readonly width: number; readonly size: number; readonly alpha: number; readonly beta: number }): string => {
  const half = (s.size - 1) / 2
  return kernel(s.planes * s.height * s.width, [ro("x"), ro("scale"), ro("dy"), ro("r"), rw("dx")], `
  let w = i32(i % ${u(s.width)});
  let h = i32((i / ${u(s.width)}) % ${u(s.height)});
  let base = (i / ${u(s.height * s.width)}) * ${u(s.height * s.width)};
  var acc = 0.0;
  for (var a = max(h - ${i(half)}, 0); a <= min(h + ${i(half)}, ${i(s.height - 1)}); a++) {
    for (var b = max(w - ${i(half)}, 0); b <= min(w + ${i(half)}, ${i(s.width - 1)}); b++) { acc = acc + r[base + u32(a * ${i(s.width)} + b)]; }
  }
  dx[i] = dy[i] * pow(scale[i], ${f(-s.beta)}) - ${f((2 * s.alpha * s.beta) / (s.size * s.size))} * x[i] * acc;`)
}

/**
 * STOCHASTIC pooling (no padding, as Caffe). TRAIN: pick an element of the window with probability
 * x / Σx (a counter-based hash of the element and the iteration's seed, not the host Rng's draws), y = it,
 * mask = its index; TEST: y = Σx²/(FLT_MIN + Σx), as Caffe. Bindings: seed, x, y, mask | x, y.
 */
export const stochasticPoolForward = (s: { readonly planes: number; readonly height: number; readonly width: number; readonly kernelH: number; readonly kernelW: number; readonly strideH: number; readonly strideW: number; readonly pooledH: number; readonly pooledW: number }, train: boolean, salt: number): string => {
  const window = `
  let pw = i % ${u(s.pooledW)};
  let ph = (i / ${u(s.pooledW)}) % ${u(s.pooledH)};
  let base = (i / ${u(s.pooledW * s.pooledH)}) * ${u(s.height * s.width)};
  let hs = ph * ${u(s.strideH)};
  let ws = pw * ${u(s.strideW)};
  let he = min(hs + ${u(s.kernelH)}, ${u(s.height)});
  let we = min(ws + ${u(s.kernelW)}, ${u(s.width)});
  var cum = 0.0;
  var cumSq = 0.0;
  for (var h = hs; h < he; h++) {
    for (var w = ws; w < we; w++) { let v = x[base + h * ${u(s.width)} + w]; cum = cum + v; cumSq = cumSq + v * v; }
  }`
  if (!train) return kernel(s.planes * s.pooledH * s.pooledW, [ro("x"), rw("y")], `${window}
  y[i] = cumSq / (1.17549435e-38 + cum);`)
  return kernel(s.planes * s.pooledH * s.pooledW, ["var<uniform> seed: vec4<u32>", ro("x"), rw("y"), rw("mask", "u32")], `${window}
  var hh = i * 747796405u + seed.x * 2891336453u + ${u(salt)} * 1181783497u;
  hh = ((hh >> ((hh >> 28u) + 4u)) ^ hh) * 277803737u;
  hh = (hh >> 22u) ^ hh;
  let threshold = f32(hh >> 8u) * (1.0 / 16777216.0) * cum;
  var run = 0.0;
  var pick = base + (he - 1u) * ${u(s.width)} + we - 1u;
  var found = false;
  for (var h = hs; h < he && !found; h++) {
    for (var w = ws; w < we; w++) {
      run = run + x[base + h * ${u(s.width)} + w];
      if (run >= threshold) { pick = base + h * ${u(s.width)} + w; found = true; break; }
    }
  }
  y[i] = x[pick];
  mask[i] = pick;`)
}

/** Its TRAIN backward: dx[k] = Σ dy over the windows that picked element k. Bindings: mask, dy, dx. */
export const stochasticPoolBackward = (s: { readonly planes: number; readonly height: number; readonly width: number; readonly kernelH: number; readonly kernelW: number; readonly strideH: number; readonly strideW: number; readonly pooledH: number; readonly pooledW: number }): string =>
  kernel(s.planes * s.height * s.width, [ro("mask", "u32"), ro("dy"), rw("dx")], `
  let w = i32(i % ${u(s.width)});
  let h = i32((i / ${u(s.width)}) % ${u(s.height)});
  let plane = i / ${u(s.height * s.width)};
  let phs = select((h - ${i(s.kernelH)}) / ${i(s.strideH)} + 1, 0i, h < ${i(s.kernelH)});
  let phe = min(h / ${i(s.strideH)} + 1, ${i(s.pooledH)});
  let pws = select((w - ${i(s.kernelW)}) / ${i(s.strideW)} + 1, 0i, w < ${i(s.kernelW)});
  let pwe = min(w / ${i(s.strideW)} + 1, ${i(s.pooledW)});
  var sum = 0.0;
  for (var ph = phs; ph < phe; ph++) {
    for (var pw = pws; pw < pwe; pw++) {
      let k = plane * ${u(s.pooledH * s.pooledW)} + u32(ph * ${i(s.pooledW)} + pw);
      if (mask[k] == i) { sum = sum + dy[k]; }
    }
  }
  dx[i] = sum;`)

/** Accuracy's second top, one thread per class: hits / count over the counted positions of that label (0 when none). Bindings: label, hit, valid, top. */
export const accuracyPerClass = (positions: number, classes: number): string =>
  kernel(classes, [ro("label"), ro("hit"), ro("valid"), rw("top")], `
  var hits = 0.0;
  var count = 0.0;
  for (var k = 0u; k < ${u(positions)}; k++) {
    if (valid[k] > 0.0 && i32(label[k]) == i32(i)) { count = count + 1.0; hits = hits + hit[k]; }
  }
  top[i] = select(0.0, hits / count, count > 0.0);`)
