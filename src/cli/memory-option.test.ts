import { describe, expect, it } from "vitest"
import { parseOptions } from "./argv.js"
import { applyMaxMemory, maxMemoryOption, parseByteSize } from "./memory-option.js"

describe("--max-memory", () => {
  it("reads sizes in bytes, decimal and binary units; refuses anything else", () => {
    expect(parseByteSize("1000000")).toBe(1_000_000)
    expect(parseByteSize("8G")).toBe(8e9)
    expect(parseByteSize("512MB")).toBe(512e6)
    expect(parseByteSize("1.5GiB")).toBe(1.5 * 2 ** 30)
    expect(parseByteSize("0")).toBeUndefined()
    expect(parseByteSize("lots")).toBeUndefined()
    const saved = process.env.DEEPSPARK_MAX_MEMORY
    try {
      applyMaxMemory(parseOptions(["--max-memory", "2G"], [maxMemoryOption]))
      expect(process.env.DEEPSPARK_MAX_MEMORY).toBe("2000000000")
      expect(() => applyMaxMemory(parseOptions(["--max-memory", "2 potatoes"], [maxMemoryOption]))).toThrow(/--max-memory expects a size such as 8G or 512M, got '2 potatoes'/)
    } finally {
      if (saved === undefined) delete process.env.DEEPSPARK_MAX_MEMORY
      else process.env.DEEPSPARK_MAX_MEMORY = saved
    }
  })
})
