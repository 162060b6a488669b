import { describe, expect, it } from "vitest"
import { CliUsageError } from "./command.js"
import { gpuRequest } from "./gpu-option.js"

describe("-gpu N | N,M | all and --backend gpu", () => {
  it("reads Caffe's forms; --backend gpu alone is GPU 0; no flag is not the GPU", () => {
    expect(gpuRequest(undefined, undefined)).toEqual({ kind: "none" })
    expect(gpuRequest(undefined, "cpu")).toEqual({ kind: "none" })
    expect(gpuRequest(undefined, "gpu")).toEqual({ kind: "list", indices: [0] })
    expect(gpuRequest("1", undefined)).toEqual({ kind: "list", indices: [1] })
    expect(gpuRequest("0, 2", "gpu")).toEqual({ kind: "list", indices: [0, 2] })
    expect(gpuRequest("all", undefined)).toEqual({ kind: "all" })
    expect(gpuRequest("ALL", undefined)).toEqual({ kind: "all" })
  })

  it("refuses what is not a device index, and -gpu with another backend", () => {
    expect(() => gpuRequest("x", undefined)).toThrow(CliUsageError)
    expect(() => gpuRequest("-1", undefined)).toThrow(/device index/)
    expect(() => gpuRequest("0", "reference")).toThrow(/not --backend reference/)
  })
})
