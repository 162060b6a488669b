import { listAdapters } from "@deepspark/engine"
import { describe, expect, it } from "vitest"
import { runDeviceQuery } from "./device-query.js"

describe("deepspark device_query", () => {
  it("prints one line per adapter with Dawn's description, or exits 1 saying why there is none", async () => {
    const out: string[] = []
    const err: string[] = []
    const code = await runDeviceQuery([], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) })
    const adapters = await listAdapters().catch(() => [])
    if (adapters.length === 0) {
      expect(code).toBe(1)
      expect(err.join("\n")).toMatch(/no (usable )?WebGPU adapter/i)
      return
    }
    expect(code).toBe(0)
    expect(out[0]).toBe(`Querying WebGPU adapters (Dawn): ${adapters.length}`)
    adapters.forEach(({ summary }, i) => expect(out[i + 1]).toContain(`Device id ${i}: ${summary.description}`))
  })
})
