/**
 * The random source the data path takes as a parameter (crop offsets, mirror coin, shuffles), so runs
 * are reproducible from a seed. `nextInt(n)` is uniform on [0, n), like Caffe's Rand(n).
 */
export interface Rng {
  nextInt(n: number): number
}

/** A small seedable generator (mulberry32); its state is one 32-bit word, so it can be saved. */
export class SeededRng implements Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  nextInt(n: number): number {
    if (!(n > 0)) throw new RangeError(`nextInt(${n}): n must be positive`)
    return Math.floor((this.nextUint32() / 4294967296) * n)
  }
  get seedState(): number {
    return this.state
  }
}

/** Fisher–Yates shuffle in place. */
export const shuffleInPlace = <T>(items: Array<T> | Uint32Array, rng: Rng): void => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1)
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
}
