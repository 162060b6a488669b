import { existsSync, readdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { assembleWat, buildKernelModule, hasRelaxedSimd, hasSimd128, wasmCacheDir } from "./wasm-module.js"

describe("kernel module build", () => {
  it("detects SIMD support with hand-assembled probes", () => {
    expect(hasSimd128()).toBe(true) // Node ≥ 16.4
    expect(typeof hasRelaxedSimd()).toBe("boolean")
  })

  it("assembles once, then reads the content-keyed cache", async () => {
    const first = await buildKernelModule({ fma: false })
    const second = await buildKernelModule({ fma: false })
    expect(second.fromCache).toBe(true)
    expect(first.module).toBeInstanceOf(WebAssembly.Module)
    expect(existsSync(wasmCacheDir())).toBe(true)
    expect(readdirSync(wasmCacheDir()).some((f) => /^kernels-[0-9a-f]{24}\.wasm$/.test(f))).toBe(true)
  })

  it("reports WAT errors with the line and column", async () => {
    await expect(assembleWat("(module (func (i32.bogus)))", "bad.wat")).rejects.toThrow(/bad\.wat:1:\d+/)
  })
})
