import { describe, expect, it } from "vitest"
import { parseOptions } from "./argv.js"
import { easgdSettingOptions, easgdSettingValues } from "./easgd-options.js"
import { makeEasgdSettings } from "../easgd/settings.js"

const settingsOf = (argv: string[]) => makeEasgdSettings(easgdSettingValues(parseOptions(argv, easgdSettingOptions)))

describe("the update rules' command-line flags", () => {
  it("give the newer rules' settings", () => {
    const s = settingsOf(["--rule", "diloco", "--outer-lr", "0.5", "--outer-momentum=0.8", "--staleness-aware", "--lr-scaling", "linear", "--lr-warmup", "100"])
    expect([s.rule, s.outerLr, s.outerMomentum, s.stalenessAware, s.lrScaling, s.lrWarmup]).toEqual(["diloco", 0.5, 0.8, true, "linear", 100])
  })

  it("a bad value is one error naming the setting", () => {
    expect(() => settingsOf(["--lr-scaling", "square"])).toThrow(/lr_scaling: must be "none" or "linear"/)
    expect(() => settingsOf(["--rule", "async-diloco", "--outer-momentum", "1.5"])).toThrow(/outer_momentum/)
  })

  it("--rule's help lists every registered rule", () => {
    expect(easgdSettingOptions.find((o) => o.name === "rule")?.description).toMatch(/async-easgd \| .* \| diloco \| async-diloco/)
  })
})
