/**
 * The engine's seedable random source (Mersenne Twister mt19937, as Caffe uses, though Caffe's exact
 * stream is not reproduced: reproducibility is per deepspark seed). Every random choice in the engine —
 * fillers, dropout masks, stochastic pooling, data shuffling and crops — draws from an Rng so a run with
 * `random_seed` set is repeatable.
 */
export class Rng {
  private readonly mt = new Uint32Array(624)
  private index = 625
  private spareGaussian: number | null = null

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

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const mt = this.mt
    if (this.index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff)
        mt[i] = mt[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      }
      this.index = 0
    }
    let y = mt[this.index++]!
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

  bernoulli(p: number): boolean {
    return this.nextDouble() < p
  }

  /** Derives an independent generator (e.g. one per layer) deterministically from this one. */
  fork(): Rng {
    return new Rng(this.nextUint32())
  }
}
