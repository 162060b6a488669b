/**
 * The cpu backend's memory: one shared WebAssembly.Memory and a first-fit allocator over it.
 *
 * Shared (not plain) memory because `grow` on a shared memory never detaches the old buffer: every
 * Float32Array handed out earlier stays valid, so blobs can live here and be read by the kernels in
 * place. Each `memory.buffer` read after a grow is a new SharedArrayBuffer object over the same memory,
 * so `addressOf` recognises all of them (kept in a WeakSet).
 *
 * Blocks are returned to the free list when their Float32Array is garbage collected (a
 * FinalizationRegistry), so blobs need no explicit free; kernels' scratch is held for the backend's
 * lifetime. Caveat of that design: a block is freed when the array *returned by allocFloat32/allocInt32* is
 * collected, even if a subarray / second view of it is still alive (views keep the whole shared buffer
 * alive, not the block). Keep the allocated array itself for as long as any view of it is used.
 */
import { maxMemoryPages } from "../../../wasm/kernels.wat.js"
import { allocationStats } from "../../core/allocation-stats.js"

const pageBytes = 65536
/** Alignment of every block (a cache line: v128 loads never split one at a block's start). */
const align = 64

interface FreeBlock {
  start: number
  size: number
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory
  private readonly buffers = new WeakSet<ArrayBufferLike>()
  private top: number
  /** Sorted by address, coalesced. */
  private free: FreeBlock[] = []
  private readonly registry = new FinalizationRegistry<FreeBlock>((b) => this.release(b.start, b.size))
  private f32view: Float32Array
  private i32view: Int32Array

  constructor(initialBytes = 1 << 20) {
    this.memory = new WebAssembly.Memory({
      initial: Math.max(1, Math.ceil(initialBytes / pageBytes)),
      maximum: maxMemoryPages,
      shared: true
    })
    // Address 0..align-1 stays unused: 0 is never a valid block, which catches mistakes.
    this.top = align
    this.f32view = this.view()
    this.i32view = new Int32Array(this.f32view.buffer)
  }

  private view(): Float32Array {
    const buf = this.memory.buffer
    this.buffers.add(buf)
    return new Float32Array(buf)
  }

  /** A Float32Array over the whole memory as it is now (re-read after any allocation). */
  get heapF32(): Float32Array {
    if (this.f32view.buffer.byteLength !== this.memory.buffer.byteLength) this.f32view = this.view()
    return this.f32view
  }

  /** An Int32Array over the whole memory as it is now. */
  get heapI32(): Int32Array {
    if (this.i32view.buffer.byteLength !== this.memory.buffer.byteLength) this.i32view = new Int32Array(this.heapF32.buffer)
    return this.i32view
  }

  /** Byte address of `array[offset]` when the array lives in this memory, else -1. */
  addressOf(array: ArrayBufferView, offset = 0): number {
    return this.buffers.has(array.buffer) ? array.byteOffset + offset * 4 : -1
  }

  /** Reserves `bytes` (rounded up to the alignment); returns the byte address. */
  allocBytes(bytes: number): number {
    const size = Math.max(align, Math.ceil(bytes / align) * align)
    if (allocationStats.enabled) allocationStats.record("wasm-block", size)
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!
      if (b.size >= size) {
        const start = b.start
        if (b.size === size) this.free.splice(i, 1)
        else {
          b.start += size
          b.size -= size
        }
        return start
      }
    }
    const start = this.top
    const end = start + size
    const have = this.memory.buffer.byteLength
    if (end > have) {
      const pages = Math.ceil((end - have) / pageBytes)
      // Grow geometrically so many small blobs do not grow page by page.
      const want = Math.max(pages, Math.ceil(have / pageBytes / 4))
      const room = maxMemoryPages - have / pageBytes
      if (pages > room) throw new RangeError(`cpu backend: wasm memory exhausted (need ${end} bytes, max 4 GiB)`)
      if (allocationStats.enabled) allocationStats.record("wasm-grow", Math.min(want, room) * pageBytes)
      this.memory.grow(Math.min(want, room))
    }
    this.top = end
    return start
  }

  /** A Float32Array of `count` floats inside the memory, zeroed; freed when it is garbage collected. */
  allocFloat32(count: number): Float32Array {
    const start = this.allocBytes(count * 4)
    const array = new Float32Array(this.memory.buffer, start, count)
    this.buffers.add(array.buffer)
    array.fill(0)
    this.registry.register(array, { start, size: Math.max(align, Math.ceil((count * 4) / align) * align) })
    return array
  }

  /** An Int32Array of `count` zeroed int32s inside the memory (same lifetime rule as allocFloat32). */
  allocInt32(count: number): Int32Array {
    const start = this.allocBytes(count * 4)
    const array = new Int32Array(this.memory.buffer, start, count)
    this.buffers.add(array.buffer)
    array.fill(0)
    this.registry.register(array, { start, size: Math.max(align, Math.ceil((count * 4) / align) * align) })
    return array
  }

  /** Returns a block to the free list (coalescing with neighbours and with the top). */
  release(start: number, size: number): void {
    if (start + size === this.top) {
      this.top = start
      // The block now at the end of the free list may touch the new top.
      const last = this.free[this.free.length - 1]
      if (last && last.start + last.size === this.top) {
        this.top = last.start
        this.free.pop()
      }
      return
    }
    let lo = 0
    let hi = this.free.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.free[mid]!.start < start) lo = mid + 1
      else hi = mid
    }
    const prev = this.free[lo - 1]
    const next = this.free[lo]
    if (prev && prev.start + prev.size === start) {
      prev.size += size
      if (next && prev.start + prev.size === next.start) {
        prev.size += next.size
        this.free.splice(lo, 1)
      }
    } else if (next && start + size === next.start) {
      next.start = start
      next.size += size
    } else this.free.splice(lo, 0, { start, size })
  }

  /** Bytes handed out and not yet freed (for tests). */
  get usedBytes(): number {
    let freeBytes = 0
    for (const b of this.free) freeBytes += b.size
    return this.top - align - freeBytes
  }
}
