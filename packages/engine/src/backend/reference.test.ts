import { describe, expect, it } from "vitest"
import type { ConvGeometry, PoolGeometry } from "./backend.js"
import { referenceBackend as B } from "./reference.js"

const f32 = (xs: number[]) => Float32Array.from(xs)
const arr = (a: Float32Array | Int32Array) => Array.from(a)

const pool = (o: Partial<PoolGeometry> & { height: number; width: number; pooledH: number; pooledW: number }): PoolGeometry => ({
  num: 1,
  channels: 1,
  kernelH: 2,
  kernelW: 2,
  padH: 0,
  padW: 0,
  strideH: 2,
  strideW: 2,
  ...o
})

describe("reference backend", () => {
  // A = [[1,2,3],[4,5,6]] (2×3), B = [[1,0],[0,1],[1,1]] (3×2): A·B = [[4,5],[10,11]]
  const A = f32([1, 2, 3, 4, 5, 6])
  const At = f32([1, 4, 2, 5, 3, 6])
  const Bm = f32([1, 0, 0, 1, 1, 1])
  const Bt = f32([1, 0, 1, 0, 1, 1])
  it("gemm with every transpose combination, alpha and beta", () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true]
    ] as const) {
      const C = f32([1, 1, 1, 1])
      B.gemm(ta, tb, 2, 2, 3, 2, ta ? At : A, 0, tb ? Bt : Bm, 0, 0.5, C, 0)
      expect(arr(C)).toEqual([8.5, 10.5, 20.5, 22.5])
    }
  })
  it("gemm honours offsets and ignores C when beta is 0", () => {
    const C = f32([9, NaN, NaN, NaN, NaN])
    B.gemm(false, false, 2, 2, 3, 1, f32([7, ...A]), 1, f32([7, 7, ...Bm]), 2, 0, C, 1)
    expect(arr(C)).toEqual([9, 4, 5, 10, 11])
  })
  it("gemv both ways", () => {
    const y = f32([1, 1])
    B.gemv(false, 2, 3, 1, A, 0, f32([1, 1, 1]), 0, 1, y, 0)
    expect(arr(y)).toEqual([7, 16])
    const z = f32([0, 0, 0])
    B.gemv(true, 2, 3, 2, A, 0, f32([1, -1]), 0, 0, z, 0)
    expect(arr(z)).toEqual([-6, -6, -6])
  })
  it("im2col with padding, stride and dilation; col2im sums overlaps", () => {
    // 1×3×3 image 1..9, kernel 2×2, pad 1, stride 2, dilation 2 → out (3+2−3)/2+1 = 2
    const g: ConvGeometry = {
      channels: 1, height: 3, width: 3, kernelH: 2, kernelW: 2, padH: 1, padW: 1,
      strideH: 2, strideW: 2, dilationH: 2, dilationW: 2, outH: 2, outW: 2
    }
    const img = f32([1, 2, 3, 4, 5, 6, 7, 8, 9])
    const col = new Float32Array(4 * 4)
    B.im2col(g, img, 0, col)
    // extent 3 with stride 2: only pixel (1,1)=5 is ever sampled, once per tap
    expect(arr(col)).toEqual([0, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 0])
    // stride 1, pad 1, dilation 2 → 3×3 output; each tap sees the image shifted by (±1, ±1)
    const g1: ConvGeometry = { ...g, strideH: 1, strideW: 1, outH: 3, outW: 3 }
    const col1 = new Float32Array(4 * 9)
    B.im2col(g1, img, 0, col1)
    expect(arr(col1)).toEqual([
      0, 0, 0, 0, 1, 2, 0, 4, 5,
      0, 0, 0, 2, 3, 0, 5, 6, 0,
      0, 4, 5, 0, 7, 8, 0, 0, 0,
      5, 6, 0, 8, 9, 0, 0, 0, 0
    ])
    const back = new Float32Array(9).fill(100)
    B.col2im(g1, col1, back, 0)
    // each pixel times the number of taps that read it
    expect(arr(back)).toEqual([1, 4, 3, 8, 20, 12, 7, 16, 9])
    // overlapping windows (stride 1, k 2) sum contributions
    const g2: ConvGeometry = { ...g, kernelH: 2, kernelW: 2, padH: 0, padW: 0, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1 }
    const col2 = new Float32Array(16).fill(1)
    const out = new Float32Array(9)
    B.col2im(g2, col2, out, 0)
    expect(arr(out)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1])
  })
  it("max pooling: first maximum in row-major order wins; clipped windows; mask h·W+w", () => {
    // 3×3, k2 s2 ceil → 2×2; ties of 5 in the first window
    const g = pool({ height: 3, width: 3, pooledH: 2, pooledW: 2 })
    const top = new Float32Array(4)
    const mask = new Int32Array(4)
    B.maxPoolForward(g, f32([1, 5, 2, 5, 0, 3, -1, -2, -3]), top, mask)
    expect(arr(top)).toEqual([5, 3, -1, -3])
    expect(arr(mask)).toEqual([1, 5, 6, 8])
    const bd = new Float32Array(9).fill(7)
    B.maxPoolBackward(g, f32([1, 2, 3, 4]), mask, bd)
    expect(arr(bd)).toEqual([0, 1, 0, 0, 0, 2, 3, 0, 4])
  })
  it("average pooling divisor uses the pad-extended window before clipping", () => {
    // 2×2 of ones, k3 s1 pad1 → 2×2: window h∈[-1,2) w∈[-1,2) clipped to [0,2) both ways; divisor 9.
    const g = pool({ height: 2, width: 2, pooledH: 2, pooledW: 2, kernelH: 3, kernelW: 3, padH: 1, padW: 1, strideH: 1, strideW: 1 })
    const top = new Float32Array(4)
    B.avePoolForward(g, f32([1, 1, 1, 1]), top)
    // hs=−1, he=min(2, 3)=2 → 3 rows; hs=0 → he=min(3,3)=3 → 3 rows: divisor 9 everywhere, sum 4
    expect(arr(top)).toEqual([4 / 9, 4 / 9, 4 / 9, 4 / 9].map(Math.fround))
    // 3×3 k2 s2 pad0: last window he = min(4, 3) = 3 → divisor 2·2=… rows [2,3) only → (3−2)·… 
    const g2 = pool({ height: 3, width: 3, pooledH: 2, pooledW: 2 })
    const t2 = new Float32Array(4)
    B.avePoolForward(g2, f32([1, 2, 3, 4, 5, 6, 7, 8, 9]), t2)
    // windows: [1,2,4,5]/4, [3,6]/2 (he=min(4,3)=3 with pad 0), [7,8]/2, [9]/1
    expect(arr(t2)).toEqual([3, 4.5, 7.5, 9])
    const bd = new Float32Array(9)
    B.avePoolBackward(g2, f32([4, 2, 2, 1]), bd)
    expect(arr(bd)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1])
  })
  it("relu with negative slope, in place", () => {
    const x = f32([-2, 0, 3])
    B.reluForward(x, x, 3, 0.5)
    expect(arr(x)).toEqual([-1, 0, 3])
    const dx = new Float32Array(3)
    B.reluBackward(f32([-2, 0, 3]), f32([1, 1, 1]), dx, 3, 0.5)
    expect(arr(dx)).toEqual([0.5, 0.5, 1])
  })
  it("softmax along the middle axis is max-subtracted", () => {
    // outer 1, channels 2, inner 2: columns (0, ln3) and (1000, 1000)
    const y = new Float32Array(4)
    B.softmaxForward(f32([0, 1000, Math.log(3), 1000]), y, 1, 2, 2)
    expect(y[0]).toBeCloseTo(0.25, 6)
    expect(y[2]).toBeCloseTo(0.75, 6)
    expect(y[1]).toBeCloseTo(0.5, 6)
    expect(y[3]).toBeCloseTo(0.5, 6)
  })
  it("LRN across channels with zero padding at the edges", () => {
    // 1×3×1×1, x = (1,2,3), size 3, alpha 3, beta 1, k 1: scale = 1 + (Σ window x²)
    const g = { num: 1, channels: 3, height: 1, width: 1, size: 3, alpha: 3, beta: 1, k: 1 }
    const y = new Float32Array(3)
    const scale = new Float32Array(3)
    B.lrnForward(g, f32([1, 2, 3]), y, scale)
    expect(arr(scale)).toEqual([6, 15, 14])
    expect(y[0]).toBeCloseTo(1 / 6, 7)
    expect(y[1]).toBeCloseTo(2 / 15, 7)
    expect(y[2]).toBeCloseTo(3 / 14, 7)
    // numeric gradient of Σ y against the analytic one
    const dx = new Float32Array(3)
    B.lrnBackward(g, f32([1, 2, 3]), y, scale, f32([1, 1, 1]), dx)
    const f = (x: number[]) => {
      const yy = new Float32Array(3)
      B.lrnForward(g, f32(x), yy, new Float32Array(3))
      return yy[0]! + yy[1]! + yy[2]!
    }
    for (let i = 0; i < 3; i++) {
      const xp = [1, 2, 3]
      const xm = [1, 2, 3]
      xp[i]! += 1e-3
      xm[i]! -= 1e-3
      expect(dx[i]).toBeCloseTo((f(xp) - f(xm)) / 2e-3, 3)
    }
  })
  it("axpy and dot with offsets", () => {
    const y = f32([1, 1, 1])
    B.axpy(2, 3, f32([0, 1, 2]), 1, y, 1)
    expect(arr(y)).toEqual([1, 4, 7])
    expect(B.dot(2, f32([1, 2, 3]), 1, f32([4, 5]), 0)).toBe(23)
  })
})
