import { Effect, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { glogEffectLogger } from "./glog-effect-logger.js"

describe("Effect's Logger in glog format", () => {
  it("writes Effect.log / logWarning / logError as glog lines with Caffe's prefix", async () => {
    const lines: string[] = []
    await Effect.runPromise(
      Effect.all([Effect.log("Iteration 20, loss = 0.5"), Effect.logWarning("slow", 3), Effect.logError("failed")]).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, glogEffectLogger((l) => lines.push(l))))
      )
    )
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(new RegExp(`^I\\d{4} \\d{2}:\\d{2}:\\d{2}\\.\\d{6} ${process.pid} effect\\] Iteration 20, loss = 0\\.5$`))
    expect(lines[1]).toMatch(/^W\d{4} .* effect\] slow 3$/)
    expect(lines[2]).toMatch(/^E\d{4} .* effect\] failed$/)
  })
})
