import { describe, expect, it } from "vitest"
import type { LayerParameter } from "../schema/types.js"
import { filterNet, layerIncluded, mergeNetState, resolveNetState, stateMeetsRule } from "./net-state.js"

const state = (phase: "TRAIN" | "TEST", level = 0, stage: string[] = []) => ({ phase, level, stage })

describe("NetState rules (Net::StateMeetsRule / FilterNet)", () => {
  it("phase, min/max level, stage (all of) and not_stage (none of)", () => {
    expect(stateMeetsRule(state("TEST"), { phase: "TRAIN" })).toBe(false)
    expect(stateMeetsRule(state("TEST"), {})).toBe(true)
    expect(stateMeetsRule(state("TRAIN", 2), { min_level: 2, max_level: 3 })).toBe(true)
    expect(stateMeetsRule(state("TRAIN", 1), { min_level: 2 })).toBe(false)
    expect(stateMeetsRule(state("TRAIN", 4), { max_level: 3 })).toBe(false)
    expect(stateMeetsRule(state("TRAIN", 0, ["a", "b"]), { stage: ["a", "b"] })).toBe(true)
    expect(stateMeetsRule(state("TRAIN", 0, ["a"]), { stage: ["a", "b"] })).toBe(false)
    expect(stateMeetsRule(state("TRAIN", 0, ["a"]), { not_stage: ["b"] })).toBe(true)
    expect(stateMeetsRule(state("TRAIN", 0, ["a", "b"]), { not_stage: ["b"] })).toBe(false)
  })

  it("include: any rule matches; exclude: any rule removes; none: included", () => {
    const l = (extra: Partial<LayerParameter>): LayerParameter => ({ name: "l", type: "ReLU", ...extra })
    expect(layerIncluded(l({}), state("TEST"))).toBe(true)
    expect(layerIncluded(l({ include: [{ phase: "TRAIN" }, { stage: ["x"] }] }), state("TEST", 0, ["x"]))).toBe(true)
    expect(layerIncluded(l({ include: [{ phase: "TRAIN" }, { stage: ["x"] }] }), state("TEST"))).toBe(false)
    expect(layerIncluded(l({ exclude: [{ phase: "TRAIN" }, { min_level: 1 }] }), state("TEST", 1))).toBe(false)
    expect(layerIncluded(l({ exclude: [{ phase: "TRAIN" }, { min_level: 1 }] }), state("TEST", 0))).toBe(true)
  })

  it("defaults and merging: phase TEST, level 0; scalars overwrite, stages accumulate", () => {
    expect(resolveNetState(undefined)).toEqual({ phase: "TEST", level: 0, stage: [] })
    expect(mergeNetState({ phase: "TRAIN" }, { level: 3, stage: ["a"] }, { phase: "TEST", stage: ["b"] })).toEqual({ phase: "TEST", level: 3, stage: ["a", "b"] })
  })

  it("filterNet records the net's phase on layers without their own", () => {
    const net = filterNet({ layer: [{ name: "a", type: "ReLU" }, { name: "b", type: "ReLU", phase: "TRAIN" }, { name: "c", type: "ReLU", include: [{ phase: "TRAIN" }] }] }, { phase: "TEST" })
    expect(net.layer?.map((l) => [l.name, l.phase])).toEqual([["a", "TEST"], ["b", "TRAIN"]])
    expect(net.state).toEqual({ phase: "TEST", level: 0 })
  })
})
