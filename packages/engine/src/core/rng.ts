import { zigguratR, zigguratTables } from "./ziggurat.js"

/**
 * The engine's seedable random source (Mersenne Twister mt19937, as Caffe uses, though Caffe's exact
 * stream is not reproduced: reproducibility is per deepspark seed). Every random choice in the engine —
 * fillers, dropout masks, stochastic pooling, data shuffling and crops — draws from an Rng so a run with
 * `random_seed` set is repeatable.
 */
/**
 * A faster implementation of fillGaussian (the cpu backend's wasm kernels), producing the same state
 * words and samples as the JavaScript here.
 */
export interface BulkRandom {
  /** `count` words of storage the kernels read in place (the generator's state and set-aside pairs). */
  allocWords(count: number): Int32Array
  /** mt19937's twist of the 624 state words in place. */
  twist(mt: Uint32Array): void
  /**
   * fillGaussian from state word `index` on, with `rejected` (2 · 624 words) as its set-aside buffer;
   * returns the next state index.
   */
  fillGaussian(mt: Uint32Array, index: number, out: Float32Array, start: number, count: number, mean: number, std: number, rejected: Int32Array): number
  /** fillUniform from state word `index` on (`scale` = (max − min) / 2²⁴); returns the next state index. */
  fillUniform(mt: Uint32Array, index: number, out: Float32Array, start: number, count: number, min: number, scale: number): number
}

export class Rng {
  private mt: Uint32Array<ArrayBufferLike> = new Uint32Array(624)
  private index = 625
  private spareGaussian: number | null = null
  /** fillGaussian's set-aside draws of one run: (output index, draw) pairs. */
  private rejected: Int32Array<ArrayBufferLike> = new Int32Array(2 * 624)
  /** The BulkRandom whose storage holds `mt` and `rejected` (moved there on first use). */
  private bulk: BulkRandom | undefined
  /** The storage `bulk` handed out (kept alive: it is freed when this array is collected). */
  private bulkWords: Int32Array | undefined

  constructor(seed: number = 5489) {
    this.seed(seed)
  }

  seed(seed: number): void {
    const mt = this.mt
    mt[0] = seed >>> 0
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30)
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0
    }
    this.index = 624
    this.spareGaussian = null
  }

  /** The next 624 words of state, by the BulkRandom's kernel once the state lives in its storage. */
  private twist(): void {
    if (this.bulk) {
      this.bulk.twist(this.mt)
      this.index = 0
    } else this.twistJs()
  }

  /** mt19937's twist in JavaScript (split so no index needs a modulo). */
  private twistJs(): void {
    const mt = this.mt
    let i = 0
    for (; i < 227; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[i + 1]! & 0x7fffffff)
      mt[i] = mt[i + 397]! ^ (y >>> 1) ^ (-(y & 1) & 0x9908b0df)
    }
    for (; i < 623; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[i + 1]! & 0x7fffffff)
      mt[i] = mt[i - 227]! ^ (y >>> 1) ^ (-(y & 1) & 0x9908b0df)
    }
    const y = (mt[623]! & 0x80000000) | (mt[0]! & 0x7fffffff)
    mt[623] = mt[396]! ^ (y >>> 1) ^ (-(y & 1) & 0x9908b0df)
    this.index = 0
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    if (this.index >= 624) this.twist()
    return this.temper(this.mt[this.index++]!)
  }

  /** mt19937's output tempering of one state word. */
  private temper(word: number): number {
    let y = word
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    return y >>> 0
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5
    const b = this.nextUint32() >>> 6
    return (a * 67108864 + b) / 9007199254740992
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    if (!(n > 0)) throw new RangeError(`nextInt: n must be positive, got ${n}`)
    return Math.floor(this.nextDouble() * n)
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.nextDouble()
  }

  gaussian(mean: number, std: number): number {
    if (this.spareGaussian !== null) {
      const s = this.spareGaussian
      this.spareGaussian = null
      return mean + std * s
    }
    let u = 0
    let v = 0
    let r = 0
    do {
      u = 2 * this.nextDouble() - 1
      v = 2 * this.nextDouble() - 1
      r = u * u + v * v
    } while (r >= 1 || r === 0)
    const f = Math.sqrt((-2 * Math.log(r)) / r)
    this.spareGaussian = v * f
    return mean + std * u * f
  }

  /**
   * Fills `out[start .. start+count)` with normal(mean, std) samples by the ziggurat (ziggurat.ts): about
   * one 32-bit draw per sample, no logarithm on the common path — the bulk path for per-forward fills
   * (DummyData), ≈ 4× faster than `gaussian` per sample. A different stream from `gaussian`'s. With
   * `bulk`, its kernels do the whole fill (same samples, same state afterwards).
   */
  fillGaussian(out: Float32Array, start: number, count: number, mean: number, std: number, bulk?: BulkRandom): void {
    if (bulk) {
      this.useBulk(bulk)
      this.index = bulk.fillGaussian(this.mt, this.index, out, start, count, mean, std, this.rejected)
      return
    }
    const rejected = this.rejected
    let o = start
    const end = start + count
    while (o < end) {
      if (this.index >= 624) this.twist()
      // A run of state words; draws outside their layer's inner rectangle are set aside and finished
      // after the run (their extra draws follow the run's words), so the hot loop never leaves.
      const first = this.index
      const stop = Math.min(624, first + (end - o))
      const nRejected = zigguratRun(this.mt, first, stop, out, o, mean, std, rejected)
      o += stop - first
      this.index = stop
      for (let r = 0; r < nRejected; r += 2) {
        const y = rejected[r + 1]!
        const x = this.zigguratSlow(y >>> 0)
        out[rejected[r]!] = mean + std * (y & 128 ? -x : x)
      }
    }
  }

  /** Moves the state and the set-aside buffer into `bulk`'s storage (once per BulkRandom). */
  private useBulk(bulk: BulkRandom): void {
    if (this.bulk === bulk) return
    const words = bulk.allocWords(624 + 2 * 624)
    const mt = new Uint32Array(words.buffer, words.byteOffset, 624)
    mt.set(this.mt)
    this.mt = mt
    this.rejected = words.subarray(624)
    this.bulkWords = words
    this.bulk = bulk
  }

  /**
   * Fills `out[start .. start+count)` with uniform samples in [min, max) from one 32-bit word each (24
   * random bits: a float32's precision) — the bulk path for per-forward fills (DummyData). A different
   * stream from `uniform`'s (which takes 53 bits from two words). With `bulk`, its kernel does the fill
   * (same samples, same state afterwards).
   */
  fillUniform(out: Float32Array, start: number, count: number, min: number, max: number, bulk?: BulkRandom): void {
    const scale = (max - min) / 16777216
    if (bulk) {
      this.useBulk(bulk)
      this.index = bulk.fillUniform(this.mt, this.index, out, start, count, min, scale)
      return
    }
    const mt = this.mt
    let o = start
    const end = start + count
    while (o < end) {
      if (this.index >= 624) this.twist()
      const first = this.index
      const stop = Math.min(624, first + (end - o))
      for (let i = first; i < stop; i++, o++) {
        let y = mt[i]!
        y ^= y >>> 11
        y ^= (y << 7) & 0x9d2c5680
        y ^= (y << 15) & 0xefc60000
        y ^= y >>> 18
        out[o] = min + (y >>> 8) * scale
      }
      this.index = stop
    }
  }

  /** The ziggurat's rare path for a draw `y` outside its layer's inner rectangle: |sample| ≥ 0. */
  private zigguratSlow(first: number): number {
    const { k, w, f } = zigguratTables
    let y = first
    for (;;) {
      const layer = y & 127
      const j = y >>> 8
      if (j < k[layer]!) return j * w[layer]!
      if (layer === 0) {
        // The tail beyond r (Marsaglia's method): x = −ln(U1)/r accepted when −2 ln(U2) > x².
        let x = 0
        let t = 0
        do {
          x = -Math.log(this.openUnit()) / zigguratR
          t = -Math.log(this.openUnit())
        } while (t + t < x * x)
        return zigguratR + x
      }
      const x = j * w[layer]!
      if (f[layer]! + this.nextDouble() * (f[layer - 1]! - f[layer]!) < Math.exp(-0.5 * x * x)) return x
      y = this.nextUint32()
    }
  }

  /** Uniform in (0, 1): never 0, for logarithms. */
  private openUnit(): number {
    return (this.nextUint32() + 0.5) / 4294967296
  }

  bernoulli(p: number): boolean {
    return this.nextDouble() < p
  }

  /** Derives an independent generator (e.g. one per layer) deterministically from this one. */
  fork(): Rng {
    return new Rng(this.nextUint32())
  }
}

/**
 * The ziggurat's common path over state words mt[first .. stop) into out[o ..]: tempers each word and
 * writes its sample; a draw outside its layer's inner rectangle is recorded as (output index, draw) in
 * `rejected` for the exact path. Returns the number of entries used.
 */
const zigguratRun = (
  mt: Uint32Array,
  first: number,
  stop: number,
  out: Float32Array,
  start: number,
  mean: number,
  std: number,
  rejected: Int32Array
): number => {
  const { k, w } = zigguratTables
  let nRejected = 0
  let o = start
  for (let i = first; i < stop; i++, o++) {
    let y = mt[i]!
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    const layer = y & 127
    const j = y >>> 8
    // Sign from bit 7 by arithmetic: a branch on it would mispredict half the time.
    out[o] = mean + std * (j * w[layer]! * (1 - ((y >>> 6) & 2)))
    if (j >= k[layer]!) {
      rejected[nRejected++] = o
      rejected[nRejected++] = y
    }
  }
  return nRejected
}
