import os from "node:os"
import { describe, expect, it } from "vitest"
import { parseOptions } from "./argv.js"
import { cpuThreads, cpuThreadsOption } from "./backend-option.js"
import { runTrain } from "./train.js"

describe("--cpu-threads", () => {
  const parse = (argv: string[]) => parseOptions(argv, [cpuThreadsOption])

  it("a lone trainer takes every core, anything else one thread", () => {
    expect(cpuThreads(parse([]), true, {})).toBe(os.availableParallelism())
    expect(cpuThreads(parse([]), false, {})).toBe(1)
  })

  it("the flag wins over DEEPSPARK_CPU_THREADS, which wins over the default", () => {
    expect(cpuThreads(parse(["--cpu-threads", "3"]), false, { DEEPSPARK_CPU_THREADS: "2" })).toBe(3)
    expect(cpuThreads(parse([]), true, { DEEPSPARK_CPU_THREADS: "1" })).toBe(1)
    expect(cpuThreads(parse([]), false, { DEEPSPARK_CPU_THREADS: "4" })).toBe(4)
  })

  it("refuses counts that are not whole numbers ≥ 1", () => {
    expect(() => cpuThreads(parse([]), true, { DEEPSPARK_CPU_THREADS: "two" })).toThrow(/DEEPSPARK_CPU_THREADS must be a whole number ≥ 1, got 'two'/)
    expect(() => parse(["--cpu-threads", "0"])).toThrow(/cpu-threads/)
  })

  it("a distributed train refuses it (its trainers take one core each)", async () => {
    const io = { stdout: () => {}, stderr: () => {} }
    await expect(runTrain(["--solver", "solver.prototxt", "--workers", "2", "--cpu-threads", "2"], io)).rejects.toThrow(/--cpu-threads is for a lone trainer/)
  })
})
