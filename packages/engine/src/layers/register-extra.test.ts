import { describe, expect, it } from "vitest"
import { createLayer, registeredLayerTypes } from "../core/registry.js"
import { param, testContext } from "./layer-test-kit.js"
import { EXTRA_LAYER_TYPES, registerExtraLayers } from "./register-extra.js"

describe("registerExtraLayers", () => {
  it("registers every extra type once (calling it again is harmless)", () => {
    registerExtraLayers()
    registerExtraLayers()
    const known = registeredLayerTypes()
    for (const type of EXTRA_LAYER_TYPES) expect(known).toContain(type)
    for (const type of EXTRA_LAYER_TYPES) expect(createLayer(param({ name: `l_${type}`, type }), testContext()).type).toBe(type)
  })

  it("loss types say so (the net gives them loss weight 1 on top 0)", () => {
    const losses = EXTRA_LAYER_TYPES.filter((t) => createLayer(param({ type: t }), testContext()).isLoss())
    expect(losses.sort()).toEqual(["ContrastiveLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss", "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss"])
  })

  it("Python layers are refused with an error naming the layer", () => {
    expect(() => createLayer(param({ name: "my_py", type: "Python" }), testContext())).toThrow(/Layer "my_py": type Python is not supported/)
  })
})
