import { describe, expect, it } from "vitest"
import { normalizeFlags, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError } from "./command.js"

const specs: OptionSpec[] = [
  { name: "solver", type: "string", description: "" },
  { name: "iterations", type: "number", description: "" },
  { name: "gpu-id", type: "string", description: "" },
  { name: "json", type: "boolean", description: "" },
  { name: "stage", type: "strings", description: "" }
]

describe("command-line flags", () => {
  it("Caffe's single-dash flags become double-dash; numbers, '-' and args after '--' stay", () => {
    expect(normalizeFlags(["train", "-solver", "s.prototxt", "-iterations=5", "--json", "-1", "-", "--", "-x"])).toEqual([
      "train", "--solver", "s.prototxt", "--iterations=5", "--json", "-1", "-", "--", "-x"
    ])
  })

  it("--flag value, --flag=value, booleans, repeated, '-'/'_' equivalence, positionals", () => {
    const p = parseOptions(["f", "--solver", "a", "--iterations=-3", "--gpu_id", "0", "--stage", "x", "--stage=y", "--nojson", "g"], specs)
    expect(Object.fromEntries(p.options)).toEqual({ solver: "a", iterations: -3, gpu_id: "0", stage: ["x", "y"], json: false })
    expect(p.positionals).toEqual(["f", "g"])
    expect(Object.fromEntries(parseOptions(["--json"], specs).options)).toEqual({ json: true })
    expect(Object.fromEntries(parseOptions(["--json=false"], specs).options)).toEqual({ json: false })
    expect(Object.fromEntries(parseOptions(["--no-json"], specs).options)).toEqual({ json: false })
  })

  it("errors: unknown option, missing value, not a number", () => {
    expect(() => parseOptions(["--what"], specs)).toThrow(CliUsageError)
    expect(() => parseOptions(["--solver"], specs)).toThrow(/--solver needs a value/)
    expect(() => parseOptions(["--iterations", "many"], specs)).toThrow(/takes a number/)
  })
})
