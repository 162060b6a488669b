import { heapAllocator, type BlobAllocator } from "../backend/backend.js"

/**
 * A Caffe blob: an N-D array of float32 values (`data`) and their gradients (`diff`), row-major.
 * Reshaping never shrinks the storage and only reallocates when the new count exceeds the capacity,
 * so a training iteration allocates nothing once the net is set up.
 */
export class Blob {
  shape: number[] = []
  count = 0
  data: Float32Array
  diff: Float32Array
  private capacity: number
  private allocator: BlobAllocator | undefined

  /** `allocator` (optional) places the storage where a backend's kernels read it without copying. */
  constructor(shape: ReadonlyArray<number> = [], allocator?: BlobAllocator) {
    this.capacity = 0
    this.allocator = allocator
    this.data = new Float32Array(0)
    this.diff = new Float32Array(0)
    this.reshape(shape)
  }

  private alloc(count: number): Float32Array {
    return (this.allocator ?? heapAllocator).allocFloat32(count)
  }

  /**
   * Moves the storage (values included) into `allocator`'s memory; later growth allocates there too.
   * Call before sharing the storage with other blobs: blobs sharing the old arrays keep them.
   */
  useAllocator(allocator: BlobAllocator): this {
    if (this.allocator === allocator) return this
    this.allocator = allocator
    const data = this.alloc(this.capacity)
    const diff = this.alloc(this.capacity)
    data.set(this.data.subarray(0, this.capacity))
    diff.set(this.diff.subarray(0, this.capacity))
    this.data = data
    this.diff = diff
    return this
  }

  /** Changes the shape; reallocates (zeroed) only when the count grows past the capacity. */
  reshape(shape: ReadonlyArray<number>): this {
    let count = 1
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`Blob.reshape: bad dimension ${d} in [${shape.join(", ")}]`)
      count *= d
    }
    if (count > 2 ** 31 - 1) throw new RangeError(`Blob.reshape: count ${count} exceeds INT_MAX`)
    this.shape = [...shape]
    this.count = count
    if (count > this.capacity) {
      this.capacity = count
      this.data = this.alloc(count)
      this.diff = this.alloc(count)
    }
    return this
  }

  reshapeLike(other: Blob): this {
    return this.reshape(other.shape)
  }

  get numAxes(): number {
    return this.shape.length
  }

  /** Caffe's CanonicalAxisIndex: negative axes count from the end. */
  canonicalAxis(axis: number): number {
    const n = this.shape.length
    if (axis < -n || axis >= Math.max(n, 1)) {
      throw new RangeError(`axis ${axis} out of range for a ${n}-D blob [${this.shape.join(", ")}]`)
    }
    return axis < 0 ? axis + n : axis
  }

  /** Product of dims in [start, end). */
  countRange(start: number, end: number = this.shape.length): number {
    let c = 1
    for (let i = start; i < end; i++) c *= this.shape[i]!
    return c
  }

  /** Dimension with Caffe's legacy accessors' rule: missing leading axes count as 1. */
  legacyDim(index: number): number {
    if (index >= this.shape.length || index < -this.shape.length) return 1
    return this.shape[index < 0 ? index + this.shape.length : index]!
  }
  get num(): number {
    return this.legacyDim(0)
  }
  get channels(): number {
    return this.legacyDim(1)
  }
  get height(): number {
    return this.legacyDim(2)
  }
  get width(): number {
    return this.legacyDim(3)
  }

  /** The live part of the storage (storage may be larger than `count` after a shrinking reshape). */
  get dataView(): Float32Array {
    return this.data.length === this.count ? this.data : this.data.subarray(0, this.count)
  }
  get diffView(): Float32Array {
    return this.diff.length === this.count ? this.diff : this.diff.subarray(0, this.count)
  }

  /** Makes this blob use `other`'s data storage (shared parameters, in-place views). */
  shareData(other: Blob): void {
    if (other.count !== this.count) throw new RangeError(`shareData: count ${other.count} != ${this.count}`)
    this.data = other.data
  }
  shareDiff(other: Blob): void {
    if (other.count !== this.count) throw new RangeError(`shareDiff: count ${other.count} != ${this.count}`)
    this.diff = other.diff
  }

  zeroDiff(): void {
    this.diff.fill(0, 0, this.count)
  }

  shapeString(): string {
    return `${this.shape.join(" ")} (${this.count})`
  }
}
