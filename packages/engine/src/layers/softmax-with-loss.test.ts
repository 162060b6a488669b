import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { SoftmaxLayer } from "./softmax.js"
import { SoftmaxWithLossLayer } from "./softmax-with-loss.js"
import { blobOf, expectClose, expectGradientsOk, labelBlob, param, randomBlob, testContext, values } from "./layer-test-kit.js"

const swl = (extra: Record<string, unknown> = {}) => new SoftmaxWithLossLayer(param({ type: "SoftmaxWithLoss", ...extra }), testContext())

const lossOf = (layer: SoftmaxWithLossLayer, x: Blob, labels: Blob, top: Blob[] = [new Blob()]) => {
  layer.setUp([x, labels], top)
  layer.forward([x, labels], top)
  return top[0]!.data[0]!
}

describe("Softmax", () => {
  it("sums to one along the axis and matches exp/Σexp", () => {
    const layer = new SoftmaxLayer(param({ type: "Softmax" }), testContext())
    const x = blobOf([1, 3], [1, 2, 3])
    const top = new Blob()
    layer.setUp([x], [top])
    layer.forward([x], [top])
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3)
    expectClose(values(top), [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z], 1e-6)
  })
  it("gradients along axis 1 and axis 2", () => {
    expectGradientsOk(new SoftmaxLayer(param({ type: "Softmax" }), testContext()), [randomBlob([2, 4, 3], new Rng(1))], [new Blob()])
    expectGradientsOk(new SoftmaxLayer(param({ type: "Softmax", softmax_param: { axis: 2 } }), testContext()), [randomBlob([2, 3, 4], new Rng(2))], [new Blob()])
  })
})

describe("SoftmaxWithLoss", () => {
  it("uniform scores: 10 classes → 2.30259, 1000 classes → 6.90776", () => {
    expect(lossOf(swl(), new Blob([4, 10]), labelBlob([4], new Rng(1), 10))).toBeCloseTo(2.30259, 5)
    expect(lossOf(swl(), new Blob([2, 1000]), labelBlob([2], new Rng(1), 1000))).toBeCloseTo(6.90776, 5)
  })
  it("top is scalar (no axes); optional prob top", () => {
    const top = [new Blob(), new Blob()]
    lossOf(swl(), randomBlob([2, 3], new Rng(1)), blobOf([2], [0, 2]), top)
    expect(top[0]!.shape).toEqual([])
    expect(top[1]!.shape).toEqual([2, 3])
    expectClose([values(top[1]!).slice(0, 3).reduce((a, b) => a + b, 0)], [1], 1e-6)
  })
  it("normalization modes and ignore_label on a spatial case", () => {
    // (N=2, C=3, H=1, W=2): 4 positions; label −1... positions with label 1 are ignored.
    const rng = new Rng(3)
    const x = randomBlob([2, 3, 1, 2], rng)
    const labels = blobOf([2, 1, 2], [0, 1, 2, 1])
    const perPosition: number[] = []
    for (let n = 0; n < 2; n++)
      for (let k = 0; k < 2; k++) {
        const s = [0, 1, 2].map((c) => x.data[(n * 3 + c) * 2 + k]!)
        const m = Math.max(...s)
        const z = s.reduce((a, v) => a + Math.exp(v - m), 0)
        const label = labels.data[n * 2 + k]!
        perPosition.push(-(s[label]! - m - Math.log(z)))
      }
    const all = perPosition.reduce((a, b) => a + b, 0)
    const kept = perPosition[0]! + perPosition[2]!
    expect(lossOf(swl(), x, labels)).toBeCloseTo(all / 4, 5)
    expect(lossOf(swl({ loss_param: { ignore_label: 1 } }), x, labels)).toBeCloseTo(kept / 2, 5)
    expect(lossOf(swl({ loss_param: { ignore_label: 1, normalization: "FULL" } }), x, labels)).toBeCloseTo(kept / 4, 5)
    expect(lossOf(swl({ loss_param: { ignore_label: 1, normalization: "BATCH_SIZE" } }), x, labels)).toBeCloseTo(kept / 2, 5)
    expect(lossOf(swl({ loss_param: { ignore_label: 1, normalization: "NONE" } }), x, labels)).toBeCloseTo(kept, 5)
    expect(lossOf(swl({ loss_param: { normalize: false } }), x, labels)).toBeCloseTo(all / 2, 5)
    // every label ignored: normaliser floored at 1, loss 0
    expect(lossOf(swl({ loss_param: { ignore_label: 0 } }), new Blob([1, 3]), blobOf([1], [0]))).toBe(0)
  })
  for (const [name, extra, shape, labelShape] of [
    ["2-D", {}, [3, 5], [3]],
    ["spatial, ignore_label", { loss_param: { ignore_label: 2 } }, [2, 3, 2, 2], [2, 1, 2, 2]],
    ["FULL", { loss_param: { normalization: "FULL" } }, [2, 3, 2], [2, 2]],
    ["BATCH_SIZE, loss weight 3 (via top diff)", { loss_param: { normalization: "BATCH_SIZE" } }, [2, 4], [2]]
  ] as const) {
    it(`gradients: ${name}`, () => {
      const rng = new Rng(5)
      expectGradientsOk(swl(extra), [randomBlob(shape, rng, -2, 2), labelBlob(labelShape, rng, shape[1])], [new Blob()], { lossLayer: true, checkBottom: [0] })
    })
  }
  it("backward scales by the loss weight in top diff and zeroes ignored positions", () => {
    const layer = swl({ loss_param: { ignore_label: 1 } })
    const x = blobOf([2, 2], [0, 0, 0, 0])
    const labels = blobOf([2], [0, 1])
    const top = new Blob()
    layer.setUp([x, labels], [top])
    layer.forward([x, labels], [top])
    top.diff[0] = 3
    layer.backward([top], [true, false], [x, labels])
    expectClose(Array.from(x.diff), [3 * -0.5, 3 * 0.5, 0, 0])
  })
  it("rejects mismatched label counts and out-of-range labels, naming the layer", () => {
    expect(() => swl().setUp([new Blob([2, 3]), new Blob([2, 2])], [new Blob()])).toThrow(/"test".*number of labels/)
    expect(() => lossOf(swl(), new Blob([1, 3]), blobOf([1], [3]))).toThrow(/label 3/)
  })
})
