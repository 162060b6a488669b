import { describe, expect, it } from "vitest"
import { describeOptions, noPositionals, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError } from "./command.js"
import { easgdSettingOptions } from "./easgd-options.js"
import { settingNames } from "../easgd/settings.js"

const specs: OptionSpec[] = [
  { name: "solver", type: "string", value: "FILE", description: "" },
  { name: "iterations", type: "number", description: "" },
  { name: "workers", type: "integer", min: 1, description: "" },
  { name: "timeout", type: "number", min: 0, minExclusive: true, description: "" },
  { name: "gpu-id", type: "string", description: "" },
  { name: "json", type: "boolean", description: "" },
  { name: "stage", type: "strings", description: "" }
]

const usageError = (argv: string[]): string => {
  try {
    parseOptions(argv, specs)
  } catch (e) {
    expect(e).toBeInstanceOf(CliUsageError)
    return (e as Error).message
  }
  throw new Error(`no usage error for ${argv.join(" ")}`)
}

describe("the command-line parser", () => {
  it("Caffe's -flag, GNU --flag and --flag=value are the same option; '-' and '_' are interchangeable", () => {
    for (const argv of [["-solver", "s"], ["--solver", "s"], ["--solver=s"], ["-solver=s"]]) {
      expect(Object.fromEntries(parseOptions(argv, specs).options)).toEqual({ solver: "s" })
    }
    const p = parseOptions(["-gpu_id", "0", "--gpu-id=1"], specs)
    expect(p.string("gpu-id")).toBe("1") // the last one wins
    expect(p.string("gpu_id")).toBe("1")
  })

  it("booleans: --flag, --flag=false|true|0|1|no|yes, --noflag, --no-flag", () => {
    const json = (argv: string[]) => parseOptions(argv, specs).flag("json")
    expect(json([])).toBe(false)
    expect(json(["--json"])).toBe(true)
    expect(json(["-json"])).toBe(true)
    expect(json(["--json=false"])).toBe(false)
    expect(json(["--json=0"])).toBe(false)
    expect(json(["--json=no"])).toBe(false)
    expect(json(["--json=YES"])).toBe(true)
    expect(json(["--nojson"])).toBe(false)
    expect(json(["--no-json"])).toBe(false)
    expect(json(["-no_json"])).toBe(false)
    expect(usageError(["--json=maybe"])).toBe("--json takes true or false, got 'maybe'")
  })

  it("repeated strings options, positionals (a lone '-', negative numbers, everything after '--')", () => {
    const p = parseOptions(["f", "--stage", "x", "-stage=y", "-", "-1", "--iterations", "-3", "--", "--json", "-x"], specs)
    expect(p.strings("stage")).toEqual(["x", "y"])
    expect(p.number("iterations")).toBe(-3)
    expect(p.flag("json")).toBe(false)
    expect(p.positionals).toEqual(["f", "-", "-1", "--json", "-x"])
    expect(parseOptions([], specs).strings("stage")).toEqual([])
    expect(() => noPositionals(p)).toThrow("unexpected argument 'f'")
    expect(() => noPositionals(parseOptions(["--json"], specs))).not.toThrow()
  })

  it("numbers are checked against the spec: a number, an integer, the bound", () => {
    expect(parseOptions(["--workers", "3", "--timeout=0.5", "--iterations=1e3"], specs).options).toEqual(
      new Map<string, unknown>([["workers", 3], ["timeout", 0.5], ["iterations", 1000]])
    )
    expect(usageError(["--iterations", "many"])).toBe("--iterations takes a number, got 'many'")
    expect(usageError(["--iterations="])).toBe("--iterations takes a number, got ''")
    expect(usageError(["-workers", "1.5"])).toBe("-workers takes an integer ≥ 1, got '1.5'")
    expect(usageError(["--workers=0"])).toBe("--workers takes an integer ≥ 1, got '0'")
    expect(usageError(["--timeout", "0"])).toBe("--timeout takes a number > 0, got '0'")
  })

  it("errors name the flag as it was written: unknown options, missing values", () => {
    expect(usageError(["--what"])).toBe("unknown option --what")
    expect(usageError(["-what=3"])).toBe("unknown option -what")
    expect(usageError(["--nosolver"])).toBe("unknown option --nosolver") // only booleans negate
    expect(usageError(["--solver"])).toBe("--solver needs a value (FILE)")
    expect(usageError(["-solver", "-json"])).toBe("-solver needs a value (FILE), got the option -json")
    // A value that looks like an option but is none is taken as it is (a token, a file name).
    expect(parseOptions(["--solver", "-weird"], specs).string("solver")).toBe("-weird")
  })

  it("reading an option the command did not declare (or as another type) is a programming error", () => {
    const p = parseOptions([], specs)
    expect(() => p.string("nope")).toThrow(/not declared/)
    expect(() => p.number("solver")).toThrow(/not declared as number or integer/)
    expect(() => p.flag("stage")).toThrow(/not declared as boolean/)
  })

  it("help lines: placeholder, description, (repeatable)", () => {
    expect(describeOptions([specs[0]!, { ...specs[5]!, description: "as JSON" }, { ...specs[6]!, value: "NAME", description: "add one" }])).toEqual([
      "  --solver FILE  ",
      "  --json         as JSON",
      "  --stage NAME   add one (repeatable)"
    ])
  })

  it("the EASGD setting options are exactly DeepSpark's settings", () => {
    expect(easgdSettingOptions.map((s) => s.name.replaceAll("-", "_")).sort()).toEqual([...settingNames].sort())
  })
})
