import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { InnerProductLayer } from "./inner-product.js"
import { blobOf, expectClose, expectGradientsOk, param, randomBlob, testContext, values } from "./layer-test-kit.js"

const ip = (p: Record<string, unknown>) =>
  new InnerProductLayer(
    param({ type: "InnerProduct", inner_product_param: { weight_filler: { type: "gaussian" }, bias_filler: { type: "gaussian" }, ...p } }),
    testContext()
  )

describe("InnerProduct", () => {
  it("y = x·Wᵀ + b exactly", () => {
    const layer = ip({ num_output: 2 })
    const x = blobOf([2, 3], [1, 2, 3, 4, 5, 6])
    const top = new Blob()
    layer.setUp([x], [top])
    layer.blobs[0]!.data.set([1, 0, -1, 0.5, 0.5, 0.5])
    layer.blobs[1]!.data.set([10, 20])
    layer.forward([x], [top])
    expect(top.shape).toEqual([2, 2])
    expect(values(top)).toEqual([8, 23, 8, 27.5])
  })
  it("transpose stores W as (K, N) and computes the same product", () => {
    const layer = ip({ num_output: 2, transpose: true, bias_term: false })
    const x = blobOf([2, 3], [1, 2, 3, 4, 5, 6])
    const top = new Blob()
    layer.setUp([x], [top])
    expect(layer.blobs.map((b) => b.shape)).toEqual([[3, 2]])
    layer.blobs[0]!.data.set([1, 0.5, 0, 0.5, -1, 0.5])
    layer.forward([x], [top])
    expect(values(top)).toEqual([-2, 3, -2, 7.5])
  })
  it("axis: K = count(axis), top keeps the leading axes", () => {
    const layer = ip({ num_output: 4, axis: 2 })
    const top = new Blob()
    layer.setUp([new Blob([2, 3, 5])], [top])
    expect(top.shape).toEqual([2, 3, 4])
    expect(layer.blobs[0]!.shape).toEqual([4, 5])
    const l1 = ip({ num_output: 7 })
    l1.setUp([new Blob([2, 3, 4, 5])], [top])
    expect(top.shape).toEqual([2, 7])
    expect(l1.blobs[0]!.shape).toEqual([7, 60])
  })
  it("rejects a bottom whose size changed", () => {
    const layer = ip({ num_output: 2 })
    layer.setUp([new Blob([2, 3])], [new Blob()])
    expect(() => layer.reshape([new Blob([2, 4])], [new Blob()])).toThrow(/"test".*incompatible/)
  })
  for (const [name, p, shape] of [
    ["plain", { num_output: 3 }, [2, 4]],
    ["4-D bottom", { num_output: 3 }, [2, 2, 3, 2]],
    ["transpose", { num_output: 3, transpose: true }, [3, 5]],
    ["axis 2", { num_output: 2, axis: 2 }, [2, 3, 4]],
    ["axis -1 transpose no bias", { num_output: 2, axis: -1, transpose: true, bias_term: false }, [2, 3, 4]]
  ] as const) {
    it(`gradients: ${name}`, () => {
      expectGradientsOk(ip(p), [randomBlob(shape, new Rng(1))], [new Blob()])
    })
  }
  it("skips the weight gradient when param propagation is off", () => {
    const layer = ip({ num_output: 2 })
    const x = randomBlob([2, 3], new Rng(2))
    const top = new Blob()
    layer.setUp([x], [top])
    layer.setParamPropagateDown(0, false)
    layer.forward([x], [top])
    top.diff.fill(1)
    layer.backward([top], [true], [x])
    expect(values({ ...layer.blobs[0]!, data: layer.blobs[0]!.diff } as Blob)).toEqual([0, 0, 0, 0, 0, 0])
    expectClose(Array.from(layer.blobs[1]!.diff), [2, 2])
  })
})
