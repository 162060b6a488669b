/**
 * The instantiated kernel module plus its heap and the staging logic every kernel wrapper uses:
 * an argument that already lives in the wasm memory is passed by address; any other Float32Array is
 * copied into a per-slot scratch area first (and copied back for outputs).
 */
import type { KernelOptions } from "../../../wasm/kernels.wat.js"
import { allocationStats } from "../../core/allocation-stats.js"
import { WasmHeap } from "./wasm-heap.js"
import { buildKernelModule } from "./wasm-module.js"

/** Exports of the kernel module (addresses are byte addresses into the heap). */
export interface KernelExports {
  gemm_pack_a(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dst: number): void
  gemm_pack_b(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dst: number): void
  gemm_macro(
    mc: number,
    nc: number,
    kc: number,
    pa: number,
    aps: number,
    as: number,
    pb: number,
    bps: number,
    bs: number,
    bedge: number,
    c: number,
    ldc: number,
    beta: number,
    tile: number
  ): void
  gemm_rank1(m: number, n: number, alpha: number, a: number, b: number, beta: number, c: number, ldc: number): void
  [name: string]: (...args: number[]) => number | void
}

/**
 * The kernel module's imports: the shared memory, and Math.exp / Math.log for the ziggurat's exact path
 * (the functions the JavaScript generator calls, so both give the same bits).
 */
export const kernelImports = (memory: WebAssembly.Memory) => ({
  env: { memory },
  math: { exp: Math.exp, log: Math.log }
})

/** A growable scratch region inside the heap, reused across calls. */
export class Scratch {
  private address = 0
  private capacity = 0
  constructor(private readonly heap: WasmHeap) {}

  /** Byte address of at least `floats` floats (contents undefined). */
  reserve(floats: number): number {
    if (floats > this.capacity) {
      if (this.capacity > 0) this.heap.release(this.address, Math.ceil((this.capacity * 4) / 64) * 64)
      const cap = Math.max(floats, Math.ceil(this.capacity * 1.5), 1024)
      this.address = this.heap.allocBytes(cap * 4)
      this.capacity = cap
    }
    return this.address
  }
}

export class WasmKernels {
  readonly exports: KernelExports
  /** Staging areas, one per argument position so inputs never overwrite each other. */
  private readonly slots: Scratch[]

  private constructor(
    readonly heap: WasmHeap,
    /** The compiled module (helper threads instantiate it over the same memory). */
    readonly module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    readonly options: KernelOptions,
    readonly buildMs: number,
    readonly fromCache: boolean
  ) {
    this.exports = instance.exports as unknown as KernelExports
    this.slots = Array.from({ length: 8 }, () => new Scratch(heap))
  }

  static async create(options: KernelOptions): Promise<WasmKernels> {
    const heap = new WasmHeap()
    const built = await buildKernelModule(options)
    const instance = new WebAssembly.Instance(built.module, kernelImports(heap.memory))
    return new WasmKernels(heap, built.module, instance, options, built.buildMs, built.fromCache)
  }

  /** Scratch of `floats` floats in slot `slot` (byte address). */
  scratch(slot: number, floats: number): number {
    return this.slots[slot]!.reserve(floats)
  }

  /**
   * Byte address of `array[offset .. offset+count)` for the kernels to read: in place when the array
   * lives in the heap, else copied into slot `slot`.
   */
  input(slot: number, array: Float32Array, offset: number, count: number): number {
    const at = this.heap.addressOf(array, offset)
    if (at >= 0) return at
    const address = this.slots[slot]!.reserve(count)
    if (allocationStats.enabled) allocationStats.record("staged-copy", count * 4)
    this.heap.heapF32.set(array.subarray(offset, offset + count), address >> 2)
    return address
  }

  /**
   * Byte address to write `count` floats of `array` at `offset`: in place when possible, else a slot
   * (pre-filled with the current contents when `readToo`); call `output` after the kernel ran.
   */
  inout(slot: number, array: Float32Array, offset: number, count: number, readToo: boolean): number {
    const at = this.heap.addressOf(array, offset)
    if (at >= 0) return at
    const address = this.slots[slot]!.reserve(count)
    if (allocationStats.enabled && readToo) allocationStats.record("staged-copy", count * 4)
    if (readToo) this.heap.heapF32.set(array.subarray(offset, offset + count), address >> 2)
    return address
  }

  /** Copies a staged output back into `array` (no-op when it was written in place). */
  output(address: number, array: Float32Array, offset: number, count: number): void {
    if (this.heap.addressOf(array, offset) >= 0) return
    if (allocationStats.enabled) allocationStats.record("staged-copy", count * 4)
    const base = address >> 2
    array.set(this.heap.heapF32.subarray(base, base + count), offset)
  }
}
