import type { PoolingParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { PoolingLayer } from "./pooling.js"
import { blobOf, expectClose, expectGradientsOk, param, randomBlob, testContext, values } from "./layer-test-kit.js"

const pool = (p: PoolingParameter, phase: "TRAIN" | "TEST" = "TRAIN") => new PoolingLayer(param({ type: "Pooling", pooling_param: p }), testContext(phase))
const outShape = (p: PoolingParameter, shape: number[]) => {
  const top = new Blob()
  pool(p).setUp([new Blob(shape)], [top])
  return top.shape
}
/** Distinct values so MAX has no ties (the gradient check needs a unique argmax). */
const distinct = (shape: number[], seed: number) => {
  const b = new Blob(shape)
  const rng = new Rng(seed)
  const perm = Array.from({ length: b.count }, (_, i) => i)
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1)
    ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
  }
  perm.forEach((v, i) => (b.data[i] = v / perm.length))
  return b
}

describe("Pooling output sizes (facts §4)", () => {
  it("CEIL examples: 32→16→8→4 (k3 s2), 55→27, 112→56, 14→4 (k5 s3)", () => {
    expect(outShape({ kernel_size: 3, stride: 2 }, [1, 1, 32, 32]).slice(2)).toEqual([16, 16])
    expect(outShape({ kernel_size: 3, stride: 2 }, [1, 1, 16, 16]).slice(2)).toEqual([8, 8])
    expect(outShape({ kernel_size: 3, stride: 2 }, [1, 1, 8, 8]).slice(2)).toEqual([4, 4])
    expect(outShape({ kernel_size: 3, stride: 2 }, [1, 1, 55, 55]).slice(2)).toEqual([27, 27])
    expect(outShape({ kernel_size: 3, stride: 2 }, [1, 1, 112, 112]).slice(2)).toEqual([56, 56])
    expect(outShape({ kernel_size: 5, stride: 3, pool: "AVE" }, [1, 1, 14, 14]).slice(2)).toEqual([4, 4])
    expect(outShape({ kernel_size: 2, stride: 2 }, [64, 20, 24, 24])).toEqual([64, 20, 12, 12])
  })
  it("FLOOR rounding and the pad decrement rule", () => {
    expect(outShape({ kernel_size: 3, stride: 2, round_mode: "FLOOR" }, [1, 1, 32, 32]).slice(2)).toEqual([15, 15])
    // in 4, k2 s2 p1: ceil((4+2−2)/2)+1 = 3; (3−1)·2 = 4 < 4+1 keeps 3
    expect(outShape({ kernel_size: 2, stride: 2, pad: 1 }, [1, 1, 4, 4]).slice(2)).toEqual([3, 3])
    // in 5, k3 s3 p1: ceil((5+2−3)/3)+1 = 3; (3−1)·3 = 6 ≥ 5+1 → 2
    expect(outShape({ kernel_size: 3, stride: 3, pad: 1 }, [1, 1, 5, 5]).slice(2)).toEqual([2, 2])
  })
  it("global pooling uses the whole plane", () => {
    expect(outShape({ global_pooling: true, pool: "AVE" }, [2, 3, 5, 7])).toEqual([2, 3, 1, 1])
  })
})

describe("Pooling values", () => {
  it("MAX: clipped windows, first maximum wins, mask top", () => {
    const layer = pool({ kernel_size: 2, stride: 2 })
    const x = blobOf([1, 1, 3, 3], [1, 5, 2, 5, 0, 3, -1, -2, -3])
    const top = new Blob()
    const mask = new Blob()
    layer.setUp([x], [top, mask])
    layer.forward([x], [top, mask])
    expect(values(top)).toEqual([5, 3, -1, -3])
    expect(values(mask)).toEqual([1, 5, 6, 8])
  })
  it("AVE with padding: divisor from the pad-extended window", () => {
    // 3×3 of ones, k3 s2 p1 → 2×2. Window (0,0): rows [−1,2) cols [−1,2): divisor 9, sum 4 → 4/9.
    // Window (1,1): hs = 1, he = min(4, 3+1) = 4 → 3 rows (divisor 9), clipped rows [1,3): sum 4 → 4/9.
    const layer = pool({ kernel_size: 3, stride: 2, pad: 1, pool: "AVE" })
    const x = blobOf([1, 1, 3, 3], new Array(9).fill(1))
    const top = new Blob()
    layer.setUp([x], [top])
    layer.forward([x], [top])
    expectClose(values(top), [4 / 9, 4 / 9, 4 / 9, 4 / 9], 1e-7)
    // 4×4 ones, k3 s2 p1 → 3×3. Per axis: windows start −1, 1, 3; divisors 3, 3, 2 (he = min(hs+3, 5));
    // clipped sums 2, 3, 1 — so the corner is 1/4, not 1: the divisor counts the padding.
    const l2 = pool({ kernel_size: 3, stride: 2, pad: 1, pool: "AVE" })
    const x2 = blobOf([1, 1, 4, 4], new Array(16).fill(1))
    const t2 = new Blob()
    l2.setUp([x2], [t2])
    l2.forward([x2], [t2])
    expectClose(values(t2), [4 / 9, 6 / 9, 2 / 6, 6 / 9, 1, 3 / 6, 2 / 6, 3 / 6, 1 / 4], 1e-7)
  })
  it("STOCHASTIC: TEST gives Σx²/Σx; TRAIN samples a window element", () => {
    const x = blobOf([1, 1, 2, 2], [1, 2, 3, 4])
    const t = new Blob()
    const test = pool({ kernel_size: 2, stride: 2, pool: "STOCHASTIC" }, "TEST")
    test.setUp([x], [t])
    test.forward([x], [t])
    expectClose(values(t), [30 / 10])
    const train = pool({ kernel_size: 2, stride: 2, pool: "STOCHASTIC" })
    train.setUp([x], [t])
    const counts = new Map<number, number>()
    for (let i = 0; i < 4000; i++) {
      train.forward([x], [t])
      counts.set(t.data[0]!, (counts.get(t.data[0]!) ?? 0) + 1)
    }
    // P(v) = v/10
    for (const v of [1, 2, 3, 4]) expect(counts.get(v)! / 4000).toBeCloseTo(v / 10, 1)
    t.diff[0] = 1
    x.zeroDiff()
    train.backward([t], [true], [x])
    expect(values({ ...x, data: x.diff } as Blob).filter((d) => d === 1).length).toBe(1)
  })
  it("rejects padding for STOCHASTIC and pad ≥ kernel", () => {
    expect(() => outShape({ kernel_size: 2, pad: 1, pool: "STOCHASTIC" }, [1, 1, 4, 4])).toThrow(/padding implemented only/)
    expect(() => outShape({ kernel_size: 2, pad: 2 }, [1, 1, 4, 4])).toThrow(/smaller than the kernel/)
    expect(() => outShape({ kernel_size: 2 }, [1, 4, 4])).toThrow(/4 axes/)
  })
})

describe("Pooling gradients", () => {
  const shapes: Array<[string, PoolingParameter, number[]]> = [
    ["MAX k3 s2 odd", { kernel_size: 3, stride: 2 }, [2, 2, 7, 5]],
    ["MAX k3 s2 p1", { kernel_size: 3, stride: 2, pad: 1 }, [1, 2, 6, 6]],
    ["MAX rect k2×3 s1×2 p1×1", { kernel_h: 2, kernel_w: 3, stride_h: 1, stride_w: 2, pad_h: 1, pad_w: 1 }, [1, 1, 5, 6]],
    ["AVE k3 s2 p1", { kernel_size: 3, stride: 2, pad: 1, pool: "AVE" }, [2, 2, 5, 7]],
    ["AVE k2 s1 floor", { kernel_size: 2, stride: 1, pool: "AVE", round_mode: "FLOOR" }, [1, 2, 4, 3]],
    ["AVE global", { global_pooling: true, pool: "AVE" }, [2, 3, 3, 4]],
    ["MAX global", { global_pooling: true }, [2, 3, 3, 4]]
  ]
  for (const [name, p, shape] of shapes) {
    it(name, () => {
      const x = p.pool === "AVE" ? randomBlob(shape, new Rng(2)) : distinct(shape, 2)
      // MAX: steps smaller than the gap between distinct values keep the argmax fixed.
      expectGradientsOk(pool(p), [x], [new Blob()], p.pool === "AVE" ? {} : { step: 1e-3, threshold: 1e-2 })
    })
  }
})
