/** All keys of a database in order, packed into one byte buffer with offsets (compact, no per-key objects). */
import { compareKeys } from "./lmdb-format.js"

export class KeyIndex {
  constructor(
    readonly bytes: Uint8Array,
    readonly offsets: Uint32Array,
    readonly count: number
  ) {}

  key(i: number): Uint8Array {
    return this.bytes.subarray(this.offsets[i]!, this.offsets[i + 1]!)
  }

  /** First index whose key is ≥ key (count if none). */
  lowerBound(key: Uint8Array): number {
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compareKeys(this.key(mid), key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export class KeyIndexBuilder {
  private bytes = new Uint8Array(1 << 16)
  private offsets = new Uint32Array(1 << 12)
  private count = 0
  private used = 0

  add(k: Uint8Array): void {
    if (this.used + k.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + k.length))
      grown.set(this.bytes.subarray(0, this.used))
      this.bytes = grown
    }
    if (this.count + 2 > this.offsets.length) {
      const grown = new Uint32Array(this.offsets.length * 2)
      grown.set(this.offsets)
      this.offsets = grown
    }
    this.bytes.set(k, this.used)
    this.offsets[this.count] = this.used
    this.used += k.length
    this.count++
  }

  build(): KeyIndex {
    this.offsets[this.count] = this.used
    return new KeyIndex(this.bytes.slice(0, this.used), this.offsets.slice(0, this.count + 1), this.count)
  }
}
