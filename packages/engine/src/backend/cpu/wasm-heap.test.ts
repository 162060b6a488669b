import { describe, expect, it } from "vitest"
import { WasmHeap } from "./wasm-heap.js"

describe("WasmHeap", () => {
  it("keeps earlier views valid across memory growth and recognises them as in-heap", () => {
    const heap = new WasmHeap(64 * 1024)
    const first = heap.allocFloat32(100)
    first[99] = 42
    const big = heap.allocFloat32(4 * 1024 * 1024) // forces grow
    expect(heap.memory.buffer.byteLength).toBeGreaterThan(16 * 1024 * 1024)
    expect(first[99]).toBe(42)
    expect(first.byteLength).toBe(400)
    expect(heap.addressOf(first, 99)).toBe(first.byteOffset + 396)
    expect(heap.addressOf(big)).toBe(big.byteOffset)
    expect(heap.addressOf(new Float32Array(4))).toBe(-1)
    // The same bytes are visible through a fresh view of the grown memory.
    expect(heap.heapF32[(first.byteOffset >> 2) + 99]).toBe(42)
  })

  it("allocations are aligned, disjoint and zeroed", () => {
    const heap = new WasmHeap()
    const blocks = [3, 17, 1, 1000, 64].map((n) => heap.allocFloat32(n))
    for (const b of blocks) {
      expect(b.byteOffset % 64).toBe(0)
      expect(b.every((v) => v === 0)).toBe(true)
    }
    const spans = blocks.map((b) => [b.byteOffset, b.byteOffset + b.byteLength] as const).sort((x, y) => x[0] - y[0])
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1])
  })

  it("reuses and coalesces released blocks (first fit), trimming the top", () => {
    const heap = new WasmHeap()
    const a = heap.allocBytes(256)
    const b = heap.allocBytes(256)
    const c = heap.allocBytes(256)
    heap.allocBytes(64) // keeps c from being the top block
    expect(heap.usedBytes).toBe(832)
    heap.release(a, 256)
    heap.release(b, 256)
    expect(heap.usedBytes).toBe(320)
    // a and b coalesced: a 512-byte request fits at a.
    expect(heap.allocBytes(512)).toBe(a)
    heap.release(a, 512)
    heap.release(c, 256)
    expect(heap.allocBytes(768)).toBe(a)
    const top = heap.allocBytes(64)
    heap.release(top, 64)
    expect(heap.allocBytes(64)).toBe(top)
  })
})
