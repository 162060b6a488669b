import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parseEasgdSettingsText, readEasgdSettingsFile } from "./settings-file.js"

describe("deepspark.prototxt settings files", () => {
  it("reads DeepSpark's names, and flags override the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-settings-"))
    const file = path.join(dir, "deepspark.prototxt")
    fs.writeFileSync(file, '# DeepSpark settings\nrule: "eamsgd"\nperiod: 20\nmoving_rate: 0.05\ndecay_rate: 0.9 decay_step: 100\n')
    const s = readEasgdSettingsFile(file, { period: 10 })
    expect(s.rule).toBe("eamsgd")
    expect(s.period).toBe(10)
    expect(s.movingRate).toBe(0.05)
    expect(s.decayRate).toBe(0.9)
  })

  it("names the file, line and column of a bad field", () => {
    expect(() => parseEasgdSettingsText("period: 5\nmoving_rat: 0.1\n", "ds.prototxt")).toThrow(/ds\.prototxt:2:1/)
    expect(() => parseEasgdSettingsText("period: fast\n", "ds.prototxt")).toThrow(/ds\.prototxt:1/)
  })

  it("validates values and names the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-settings-"))
    const file = path.join(dir, "bad.prototxt")
    fs.writeFileSync(file, "moving_rate: 3\n")
    expect(() => readEasgdSettingsFile(file)).toThrow(/bad\.prototxt: .*moving_rate/)
  })

  it("reads the newer rules' settings", () => {
    const s = readEasgdSettingsFile(undefined, parseEasgdSettingsText('rule: "diloco" outer_lr: 0.5 outer_momentum: 0.8\nstaleness_aware: true lr_scaling: "linear" lr_warmup: 300\n'))
    expect([s.rule, s.outerLr, s.outerMomentum, s.stalenessAware, s.lrScaling, s.lrWarmup]).toEqual(["diloco", 0.5, 0.8, true, "linear", 300])
    const d = readEasgdSettingsFile(undefined, parseEasgdSettingsText('rule: "downpour" progress_warmup: 100 progress_gain: 1.5\n'))
    expect([d.rule, d.period, d.progressWarmup, d.progressGain]).toEqual(["downpour", 5, 100, 1.5])
  })
})
