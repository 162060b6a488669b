import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { AccuracyLayer } from "./accuracy.js"
import { blobOf, expectClose, param, testContext, values } from "./layer-test-kit.js"

const acc = (accuracy_param: Record<string, unknown> = {}) => new AccuracyLayer(param({ type: "Accuracy", accuracy_param }), testContext("TEST"))
const run = (layer: AccuracyLayer, x: Blob, labels: Blob, tops = 1) => {
  const top = Array.from({ length: tops }, () => new Blob())
  layer.setUp([x, labels], top)
  layer.forward([x, labels], top)
  return top
}

describe("Accuracy", () => {
  const scores = blobOf([4, 3], [
    0.1, 0.7, 0.2, // label 1: correct
    0.5, 0.5, 0.0, // label 0: tie with class 1 → counts against (2 classes ≥) → wrong at top-1
    0.2, 0.3, 0.5, // label 0: 3 classes ≥ → wrong at top-1 and top-2
    0.6, 0.3, 0.1 // label 2: wrong at top-1/2, right at top-3
  ])
  const labels = blobOf([4], [1, 0, 0, 2])
  it("top-1 with ties counting against", () => {
    const [top] = run(acc(), scores, labels)
    expect(top!.shape).toEqual([])
    expect(top!.data[0]).toBe(0.25)
  })
  it("top-2 and top-3", () => {
    expect(run(acc({ top_k: 2 }), scores, labels)[0]!.data[0]).toBe(0.5)
    expect(run(acc({ top_k: 3 }), scores, labels)[0]!.data[0]).toBe(1)
  })
  it("ignore_label and per-class second top", () => {
    const [top, perClass] = run(acc({ ignore_label: 2 }), scores, labels, 2)
    expectClose([top!.data[0]!], [1 / 3])
    expect(perClass!.shape).toEqual([3])
    // class 0: 0 of 2 right; class 1: 1 of 1; class 2: ignored → 0
    expect(values(perClass!)).toEqual([0, 1, 0])
  })
  it("spatial predictions along axis 1", () => {
    // (N=1, C=2, H=1, W=2): positions (argmax 1, argmax 0); labels (1, 1) → 0.5
    expect(run(acc(), blobOf([1, 2, 1, 2], [0, 5, 1, 2]), blobOf([1, 1, 2], [1, 1]))[0]!.data[0]).toBe(0.5)
  })
  it("all ignored → 0; top_k above the class count is rejected", () => {
    expect(run(acc({ ignore_label: 0 }), blobOf([1, 2], [1, 0]), blobOf([1], [0]))[0]!.data[0]).toBe(0)
    expect(() => run(acc({ top_k: 4 }), scores, labels)).toThrow(/top_k/)
  })
})
