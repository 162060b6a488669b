import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { ConcatLayer } from "./concat.js"
import { DropoutLayer } from "./dropout.js"
import { EltwiseLayer } from "./eltwise.js"
import { FlattenLayer } from "./flatten.js"
import { ReLULayer } from "./relu.js"
import { SplitLayer } from "./split.js"
import { blobOf, expectClose, expectGradientsOk, param, randomBlob, testContext, values } from "./layer-test-kit.js"

const diffs = (b: Blob) => Array.from(b.diff.subarray(0, b.count))

describe("ReLU", () => {
  it("values, negative slope, in place", () => {
    const layer = new ReLULayer(param({ type: "ReLU", relu_param: { negative_slope: 0.25 } }), testContext())
    const x = blobOf([4], [-4, -1, 0.5, 2])
    layer.setUp([x], [x])
    layer.forward([x], [x])
    expect(values(x)).toEqual([-1, -0.25, 0.5, 2])
    x.diff.fill(1)
    layer.backward([x], [true], [x])
    expect(diffs(x)).toEqual([0.25, 0.25, 1, 1])
  })
  it("gradients (away from the kink)", () => {
    expectGradientsOk(new ReLULayer(param({ type: "ReLU" }), testContext()), [randomBlob([2, 3, 4], new Rng(1), -1, 1, [0], 0.05)], [new Blob()])
    expectGradientsOk(new ReLULayer(param({ type: "ReLU", relu_param: { negative_slope: 0.1 } }), testContext()), [randomBlob([5, 2], new Rng(2), -1, 1, [0], 0.05)], [new Blob()])
  })
})

describe("Dropout", () => {
  it("TRAIN keeps ~1−ratio and scales by 1/(1−ratio); backward reuses the mask", () => {
    const layer = new DropoutLayer(param({ type: "Dropout", dropout_param: { dropout_ratio: 0.25 } }), testContext("TRAIN"))
    const x = blobOf([10000], new Array(10000).fill(1))
    const top = new Blob()
    layer.setUp([x], [top])
    layer.forward([x], [top])
    const kept = values(top).filter((v) => v !== 0)
    expect(kept.every((v) => v === Math.fround(1 / 0.75))).toBe(true)
    expect(kept.length / 10000).toBeCloseTo(0.75, 1)
    top.diff.fill(2)
    layer.backward([top], [true], [x])
    diffs(x).forEach((d, i) => expect(d).toBe(top.data[i] === 0 ? 0 : Math.fround(2 * Math.fround(1 / 0.75))))
  })
  it("TEST is the identity", () => {
    const layer = new DropoutLayer(param({ type: "Dropout" }), testContext("TEST"))
    const x = blobOf([3], [1, 2, 3])
    const top = new Blob()
    layer.setUp([x], [top])
    layer.forward([x], [top])
    expect(values(top)).toEqual([1, 2, 3])
  })
})

describe("Split", () => {
  it("tops share the bottom's data; backward sums their diffs", () => {
    const layer = new SplitLayer(param({ type: "Split" }), testContext())
    const x = blobOf([2, 2], [1, 2, 3, 4])
    const a = new Blob()
    const b = new Blob()
    layer.setUp([x], [a, b])
    layer.forward([x], [a, b])
    expect(values(a)).toEqual([1, 2, 3, 4])
    expect(a.data).toBe(x.data)
    a.diff.set([1, 1, 1, 1])
    b.diff.set([1, 2, 3, 4])
    layer.backward([a, b], [true], [x])
    expect(diffs(x)).toEqual([2, 3, 4, 5])
  })
})

describe("Flatten", () => {
  it("merges axis..end_axis", () => {
    const shapeOf = (p: Record<string, unknown>, s: number[]) => {
      const t = new Blob()
      new FlattenLayer(param({ type: "Flatten", flatten_param: p }), testContext()).setUp([new Blob(s)], [t])
      return t.shape
    }
    expect(shapeOf({}, [2, 3, 4, 5])).toEqual([2, 60])
    expect(shapeOf({ axis: 2 }, [2, 3, 4, 5])).toEqual([2, 3, 20])
    expect(shapeOf({ axis: 1, end_axis: 2 }, [2, 3, 4, 5])).toEqual([2, 12, 5])
    expect(shapeOf({ axis: 0, end_axis: -2 }, [2, 3, 4, 5])).toEqual([24, 5])
  })
  it("gradients", () => {
    expectGradientsOk(new FlattenLayer(param({ type: "Flatten" }), testContext()), [randomBlob([2, 3, 2], new Rng(1))], [new Blob()])
  })
})

describe("Concat", () => {
  it("joins along axis 1 and axis 0 (concat_dim)", () => {
    const a = blobOf([2, 1, 2], [1, 2, 3, 4])
    const b = blobOf([2, 2, 2], [5, 6, 7, 8, 9, 10, 11, 12])
    const top = new Blob()
    const layer = new ConcatLayer(param({ type: "Concat" }), testContext())
    layer.setUp([a, b], [top])
    layer.forward([a, b], [top])
    expect(top.shape).toEqual([2, 3, 2])
    expect(values(top)).toEqual([1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
    const c = blobOf([1, 1, 2], [0, 0])
    const l0 = new ConcatLayer(param({ type: "Concat", concat_param: { concat_dim: 0 } }), testContext())
    l0.setUp([a, c], [top])
    l0.forward([a, c], [top])
    expect(top.shape).toEqual([3, 1, 2])
    expect(values(top)).toEqual([1, 2, 3, 4, 0, 0])
  })
  it("rejects shape mismatches; gradients", () => {
    expect(() => new ConcatLayer(param({ type: "Concat" }), testContext()).setUp([new Blob([2, 1]), new Blob([3, 1])], [new Blob()])).toThrow(/"test".*same shape except/)
    const rng = new Rng(3)
    expectGradientsOk(new ConcatLayer(param({ type: "Concat", concat_param: { axis: -1 } }), testContext()), [randomBlob([2, 3, 2], rng), randomBlob([2, 3, 1], rng), randomBlob([2, 3, 3], rng)], [new Blob()])
  })
})

describe("Eltwise", () => {
  const bottoms = () => [blobOf([4], [1, -2, 3, 0.5]), blobOf([4], [2, -2, -1, 4]), blobOf([4], [0, 5, 3, 1])]
  const run = (p: Record<string, unknown>, n = 3) => {
    const layer = new EltwiseLayer(param({ type: "Eltwise", eltwise_param: p }), testContext())
    const b = bottoms().slice(0, n)
    const top = new Blob()
    layer.setUp(b, [top])
    layer.forward(b, [top])
    return { layer, b, top }
  }
  it("SUM with coefficients, PROD, MAX (ties go to the later of bottoms 0/1, then strict >)", () => {
    expect(values(run({}).top)).toEqual([3, 1, 5, 5.5])
    expect(values(run({ coeff: [1, -1, 0.5] }).top)).toEqual([-1, 2.5, 5.5, -3])
    expect(values(run({ operation: "PROD" }).top)).toEqual([0, 20, -9, 2])
    const max = run({ operation: "MAX" })
    expect(values(max.top)).toEqual([2, 5, 3, 4])
    max.top.diff.set([1, 2, 3, 4])
    max.layer.backward([max.top], [true, true, true], max.b)
    // element 1: a = b = −2 → bottom 1 wins the tie, then bottom 2 (5) beats it; element 2: a = c = 3 → a keeps it
    expect(diffs(max.b[0]!)).toEqual([0, 0, 3, 0])
    expect(diffs(max.b[1]!)).toEqual([1, 0, 0, 4])
    expect(diffs(max.b[2]!)).toEqual([0, 2, 0, 0])
  })
  it("rejects coefficients outside SUM and a wrong count", () => {
    expect(() => run({ operation: "PROD", coeff: [1, 1, 1] })).toThrow(/only takes coefficients for summation/)
    expect(() => run({ coeff: [1, 1] })).toThrow(/one coefficient per bottom/)
  })
  for (const p of [{}, { coeff: [0.5, -2, 1.5] }, { operation: "PROD" }, { operation: "PROD", stable_prod_grad: false }, { operation: "MAX" }]) {
    it(`gradients ${JSON.stringify(p)}`, () => {
      const rng = new Rng(9)
      const b = [randomBlob([2, 3], rng, 0.2, 1), randomBlob([2, 3], rng, -1, -0.2), randomBlob([2, 3], rng, 1.2, 2)]
      expectGradientsOk(new EltwiseLayer(param({ type: "Eltwise", eltwise_param: p as never }), testContext()), b, [new Blob()])
    })
  }
})

describe("in-place ReLU after Eltwise leaves the gradient correct", () => {
  it("ReLU in place over a top", () => {
    const relu = new ReLULayer(param({ type: "ReLU" }), testContext())
    const x = blobOf([3], [-1, 2, 3])
    relu.setUp([x], [x])
    relu.forward([x], [x])
    x.diff.set([5, 5, 5])
    relu.backward([x], [true], [x])
    expectClose(diffs(x), [0, 5, 5])
  })
})
