import { describe, expect, it } from "vitest"
import type { BlobAllocator } from "../backend/backend.js"
import { Blob } from "./blob.js"

const countingAllocator = () => {
  const sizes: number[] = []
  const allocator: BlobAllocator = { allocFloat32: (n) => (sizes.push(n), new Float32Array(n)) }
  return { allocator, sizes }
}

describe("Blob allocator", () => {
  it("allocates through the allocator, only when the count grows", () => {
    const { allocator, sizes } = countingAllocator()
    const b = new Blob([2, 3], allocator)
    expect(sizes).toEqual([6, 6])
    b.reshape([3])
    b.reshape([2, 3])
    expect(sizes).toEqual([6, 6])
    b.reshape([4, 2])
    expect(sizes).toEqual([6, 6, 8, 8])
  })
  it("useAllocator moves data and diff (values kept) and later growth stays there", () => {
    const b = new Blob([3])
    b.data.set([1, 2, 3])
    b.diff.set([4, 5, 6])
    const before = b.data
    const { allocator, sizes } = countingAllocator()
    b.useAllocator(allocator)
    expect(b.data).not.toBe(before)
    expect(Array.from(b.data)).toEqual([1, 2, 3])
    expect(Array.from(b.diff)).toEqual([4, 5, 6])
    b.reshape([5])
    expect(sizes).toEqual([3, 3, 5, 5])
  })
})
