/**
 * gpu.js kernel bodies for the `gpu` backend, as source strings (gpu.js parses `fn.toString()`; strings
 * keep the TypeScript toolchain — type stripping, `__name` helpers — out of what it parses).
 *
 * Design rules from compute-notes.md (gpu.js 2.24.1, webasm backend):
 * - every output is 1-D (only flat outputs avoid per-cell view construction);
 * - `this.thread.x` is the SIMD lane axis: consecutive x read consecutive memory where possible;
 * - every loop bound is `this.constants.X` with a literal start (argument-bounded loops are silently cut
 *   at 1000 iterations);
 * - indices into an argument are clamped before any conditional read: the SIMD path evaluates both sides
 *   of a branch, and an out-of-range address would trap.
 */

/**
 * GEMM, 4 rows of C per thread (register blocking): thread x = (row block)·N + column j, so the 4 lanes
 * of a SIMD quad take 4 consecutive columns and share the A operands. Strides are constants, so one
 * source serves every transpose: op(A)[i,k] = a[i·AR + k·AK], op(B)[k,j] = b[j·BJ + k·BK]. Running
 * indices (rather than multiplying per iteration) measured ~20% faster on webasm.
 *
 * Summation order (float32): K in blocks of GEMM_KC, each block summed in k order from zero, the block
 * sums added in order — the cpu backend's order (its KC = 256), which reproduces Caffe's OpenBLAS run
 * (OpenBLAS's level-3 driver likewise cuts LeNet's K = 500 into two blocks of about 250). With alpha 1
 * and beta 0 the result equals the cpu backend's mul+add GEMM bit for bit. Caffe's seed-1701 LeNet
 * trajectory depends on it: with any other order in conv2's forward GEMM (K = 500) — two interleaved
 * accumulators, as this kernel had, or float64 sums, as the reference backend — the run jumps off
 * Caffe's in iteration 7 (a discrete flip, not drift: those two agree with each other to 4e-7 throughout)
 * and ends 1.7e-2 from Caffe's iteration-20 weights.
 */
export const gemmSource = `function (a, b) {
  const j = this.thread.x % this.constants.N;
  const i0 = Math.floor(this.thread.x / this.constants.N) * 4;
  const a0 = i0 * this.constants.AR;
  const a1 = Math.min(i0 + 1, this.constants.M - 1) * this.constants.AR;
  const a2 = Math.min(i0 + 2, this.constants.M - 1) * this.constants.AR;
  const a3 = Math.min(i0 + 3, this.constants.M - 1) * this.constants.AR;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let ak = 0;
  let bk = j * this.constants.BJ;
  for (let kb = 0; kb < this.constants.KBLOCKS; kb++) {
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    for (let k = 0; k < this.constants.KC; k++) {
      const bv = b[bk];
      p0 += a[a0 + ak] * bv;
      p1 += a[a1 + ak] * bv;
      p2 += a[a2 + ak] * bv;
      p3 += a[a3 + ak] * bv;
      ak += this.constants.AK;
      bk += this.constants.BK;
    }
    s0 += p0;
    s1 += p1;
    s2 += p2;
    s3 += p3;
  }
  let q0 = 0;
  let q1 = 0;
  let q2 = 0;
  let q3 = 0;
  for (let k = 0; k < this.constants.KREST; k++) {
    const bv = b[bk];
    q0 += a[a0 + ak] * bv;
    q1 += a[a1 + ak] * bv;
    q2 += a[a2 + ak] * bv;
    q3 += a[a3 + ak] * bv;
    ak += this.constants.AK;
    bk += this.constants.BK;
  }
  return [s0 + q0, s1 + q1, s2 + q2, s3 + q3];
}`

/** K block of gemmSource's summation (the cpu backend's default KC). */
export const GEMM_KC = 256

/** GEMM strides for gemmSource (row-major A: M×K or, transposed, K×M; B: K×N or N×K). */
export const gemmStrides = (transA: boolean, transB: boolean, M: number, N: number, K: number) => {
  const AK = transA ? M : 1
  const BK = transB ? 1 : N
  return { AR: transA ? 1 : K, AK, BJ: transB ? K : 1, BK, KC: GEMM_KC, KBLOCKS: Math.floor(K / GEMM_KC), KREST: K % GEMM_KC }
}

/** im2col on a pre-padded image (HP × WP per channel): no bounds branches. */
export const im2colSource = `function (img) {
  const x = this.thread.x;
  const ow = x % this.constants.OW;
  const t1 = Math.floor(x / this.constants.OW);
  const oh = t1 % this.constants.OH;
  const t2 = Math.floor(t1 / this.constants.OH);
  const kw = t2 % this.constants.KW;
  const t3 = Math.floor(t2 / this.constants.KW);
  const kh = t3 % this.constants.KH;
  const c = Math.floor(t3 / this.constants.KH);
  return img[(c * this.constants.HP + oh * this.constants.SH + kh * this.constants.DH) * this.constants.WP + ow * this.constants.SW + kw * this.constants.DW];
}`

/**
 * col2im as a gather: each image pixel sums the col entries that came from it, in (kh, kw) order — the
 * order Caffe's scatter adds them — so the float32 result is identical.
 */
export const col2imSource = `function (col) {
  const x = this.thread.x;
  const w = x % this.constants.W;
  const t1 = Math.floor(x / this.constants.W);
  const h = t1 % this.constants.H;
  const c = Math.floor(t1 / this.constants.H);
  const hp = h + this.constants.PH;
  const wp = w + this.constants.PW;
  let s = 0;
  for (let kh = 0; kh < this.constants.KH; kh++) {
    const th = hp - kh * this.constants.DH;
    const oh = Math.floor(th / this.constants.SH);
    for (let kw = 0; kw < this.constants.KW; kw++) {
      const tw = wp - kw * this.constants.DW;
      const ow = Math.floor(tw / this.constants.SW);
      const at = ((c * this.constants.KH + kh) * this.constants.KW + kw) * this.constants.OH * this.constants.OW + oh * this.constants.OW + ow;
      const v = col[Math.min(Math.max(at, 0), this.constants.LAST)];
      if (th >= 0 && tw >= 0 && oh * this.constants.SH === th && ow * this.constants.SW === tw && oh < this.constants.OH && ow < this.constants.OW) {
        s += v;
      }
    }
  }
  return s;
}`

/** MAX pooling forward: returns [max, argmax (h·W + w)] per output cell (first maximum wins, as Caffe). */
export const maxPoolForwardSource = `function (bottom) {
  const x = this.thread.x;
  const pw = x % this.constants.PW;
  const t1 = Math.floor(x / this.constants.PW);
  const ph = t1 % this.constants.PH;
  const p = Math.floor(t1 / this.constants.PH);
  const h0 = ph * this.constants.SH - this.constants.PADH;
  const w0 = pw * this.constants.SW - this.constants.PADW;
  const he = Math.min(h0 + this.constants.KH, this.constants.H);
  const we = Math.min(w0 + this.constants.KW, this.constants.W);
  const hs = Math.max(h0, 0);
  const ws = Math.max(w0, 0);
  let best = -3.4028234663852886e38;
  let arg = -1;
  for (let i = 0; i < this.constants.KH; i++) {
    const h = hs + i;
    for (let j = 0; j < this.constants.KW; j++) {
      const w = ws + j;
      const v = bottom[Math.min(p * this.constants.PLANE + h * this.constants.W + w, this.constants.LAST)];
      if (h < he && w < we && v > best) {
        best = v;
        arg = h * this.constants.W + w;
      }
    }
  }
  return [best, arg];
}`

/** MAX pooling backward as a gather over the windows covering each pixel, in output order. */
export const maxPoolBackwardSource = `function (topDiff, mask) {
  const x = this.thread.x;
  const w = x % this.constants.W;
  const t1 = Math.floor(x / this.constants.W);
  const h = t1 % this.constants.H;
  const p = Math.floor(t1 / this.constants.H);
  const hp = h + this.constants.PADH;
  const wp = w + this.constants.PADW;
  const phs = hp < this.constants.KH ? 0 : Math.floor((hp - this.constants.KH) / this.constants.SH) + 1;
  const pws = wp < this.constants.KW ? 0 : Math.floor((wp - this.constants.KW) / this.constants.SW) + 1;
  const phe = Math.min(Math.floor(hp / this.constants.SH) + 1, this.constants.PH);
  const pwe = Math.min(Math.floor(wp / this.constants.SW) + 1, this.constants.PW);
  const self = h * this.constants.W + w;
  let s = 0;
  for (let a = 0; a < this.constants.NH; a++) {
    const ph = phs + a;
    for (let b = 0; b < this.constants.NW; b++) {
      const pw = pws + b;
      const o = Math.min((p * this.constants.PH + ph) * this.constants.PW + pw, this.constants.LAST);
      if (ph < phe && pw < pwe && mask[o] === self) {
        s += topDiff[o];
      }
    }
  }
  return s;
}`

/** AVE pooling forward: the divisor counts the pad-extended window, the sum the clipped one (Caffe). */
export const avePoolForwardSource = `function (bottom) {
  const x = this.thread.x;
  const pw = x % this.constants.PW;
  const t1 = Math.floor(x / this.constants.PW);
  const ph = t1 % this.constants.PH;
  const p = Math.floor(t1 / this.constants.PH);
  const h0 = ph * this.constants.SH - this.constants.PADH;
  const w0 = pw * this.constants.SW - this.constants.PADW;
  const h1 = Math.min(h0 + this.constants.KH, this.constants.H + this.constants.PADH);
  const w1 = Math.min(w0 + this.constants.KW, this.constants.W + this.constants.PADW);
  const divisor = (h1 - h0) * (w1 - w0);
  const hs = Math.max(h0, 0);
  const ws = Math.max(w0, 0);
  const he = Math.min(h1, this.constants.H);
  const we = Math.min(w1, this.constants.W);
  let s = 0;
  for (let i = 0; i < this.constants.KH; i++) {
    const h = hs + i;
    for (let j = 0; j < this.constants.KW; j++) {
      const w = ws + j;
      const v = bottom[Math.min(p * this.constants.PLANE + h * this.constants.W + w, this.constants.LAST)];
      if (h < he && w < we) {
        s += v;
      }
    }
  }
  return s / divisor;
}`

/** AVE pooling backward as a gather: each pixel sums topDiff/divisor of the windows covering it. */
export const avePoolBackwardSource = `function (topDiff) {
  const x = this.thread.x;
  const w = x % this.constants.W;
  const t1 = Math.floor(x / this.constants.W);
  const h = t1 % this.constants.H;
  const p = Math.floor(t1 / this.constants.H);
  const hp = h + this.constants.PADH;
  const wp = w + this.constants.PADW;
  const phs = hp < this.constants.KH ? 0 : Math.floor((hp - this.constants.KH) / this.constants.SH) + 1;
  const pws = wp < this.constants.KW ? 0 : Math.floor((wp - this.constants.KW) / this.constants.SW) + 1;
  const phe = Math.min(Math.floor(hp / this.constants.SH) + 1, this.constants.PH);
  const pwe = Math.min(Math.floor(wp / this.constants.SW) + 1, this.constants.PW);
  let s = 0;
  for (let a = 0; a < this.constants.NH; a++) {
    const ph = phs + a;
    const h0 = ph * this.constants.SH - this.constants.PADH;
    const h1 = Math.min(h0 + this.constants.KH, this.constants.H + this.constants.PADH);
    for (let b = 0; b < this.constants.NW; b++) {
      const pw = pws + b;
      const w0 = pw * this.constants.SW - this.constants.PADW;
      const w1 = Math.min(w0 + this.constants.KW, this.constants.W + this.constants.PADW);
      const o = Math.min((p * this.constants.PH + ph) * this.constants.PW + pw, this.constants.LAST);
      if (ph < phe && pw < pwe) {
        s += topDiff[o] / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return s;
}`

export const reluForwardSource = `function (x, slope) {
  const v = x[this.thread.x];
  return Math.max(v, 0) + slope * Math.min(v, 0);
}`

export const reluBackwardSource = `function (x, dy, slope) {
  const i = this.thread.x;
  return x[i] > 0 ? dy[i] : dy[i] * slope;
}`

/** Softmax pass 1, one thread per (outer, inner) column: [max, Σ exp(x − max)]. */
export const softmaxStatsSource = `function (x) {
  const col = this.thread.x;
  const inner = col % this.constants.INNER;
  const base = Math.floor(col / this.constants.INNER) * this.constants.C * this.constants.INNER + inner;
  let m = -3.4028234663852886e38;
  for (let c = 0; c < this.constants.C; c++) {
    m = Math.max(m, x[base + c * this.constants.INNER]);
  }
  let s = 0;
  for (let c = 0; c < this.constants.C; c++) {
    s += Math.exp(x[base + c * this.constants.INNER] - m);
  }
  return [m, s];
}`

/** Softmax pass 2, one thread per element; `stats` is pass 1's [max, sum] pairs. */
export const softmaxNormalizeSource = `function (x, stats) {
  const i = this.thread.x;
  const inner = i % this.constants.INNER;
  const col = Math.floor(i / (this.constants.C * this.constants.INNER)) * this.constants.INNER + inner;
  return Math.exp(x[i] - stats[col * 2]) / stats[col * 2 + 1];
}`

/** Cross-channel LRN forward: [scale, y] per element. */
export const lrnForwardSource = `function (x) {
  const i = this.thread.x;
  const c = Math.floor(i / this.constants.PLANE) % this.constants.C;
  let s = 0;
  for (let j = 0; j < this.constants.SIZE; j++) {
    const cc = c - this.constants.HALF + j;
    const v = x[Math.min(Math.max(i + (cc - c) * this.constants.PLANE, 0), this.constants.LAST)];
    if (cc >= 0 && cc < this.constants.C) {
      s += v * v;
    }
  }
  const scale = this.constants.K + this.constants.ALPHA_N * s;
  return [scale, x[i] * Math.pow(scale, this.constants.NEG_BETA)];
}`

/** Cross-channel LRN backward: dy·scale^(−β) − (2αβ/n)·x·Σ_window dy·y/scale. */
export const lrnBackwardSource = `function (x, y, scale, dy) {
  const i = this.thread.x;
  const c = Math.floor(i / this.constants.PLANE) % this.constants.C;
  let s = 0;
  for (let j = 0; j < this.constants.SIZE; j++) {
    const cc = c - this.constants.HALF + j;
    const at = Math.min(Math.max(i + (cc - c) * this.constants.PLANE, 0), this.constants.LAST);
    const t = dy[at] * y[at] / scale[at];
    if (cc >= 0 && cc < this.constants.C) {
      s += t;
    }
  }
  return dy[i] * Math.pow(scale[i], this.constants.NEG_BETA) - this.constants.RATIO * x[i] * s;
}`

export const axpySource = `function (x, y, alpha) {
  const i = this.thread.x;
  return y[i] + alpha * x[i];
}`

/** Partial dot products over CHUNK-element slices (the host adds the partials in float64). */
export const dotPartialSource = `function (x, y) {
  const start = this.thread.x * this.constants.CHUNK;
  let s = 0;
  for (let k = 0; k < this.constants.CHUNK; k++) {
    const at = Math.min(start + k, this.constants.LAST);
    const v = x[at] * y[at];
    if (start + k <= this.constants.LAST) {
      s += v;
    }
  }
  return s;
}`
