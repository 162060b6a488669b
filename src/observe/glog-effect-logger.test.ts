import { GlogLogger } from "@deepspark/engine"
import { Effect, HashMap, Logger, Option } from "effect"
import { describe, expect, it } from "vitest"
import { deepsparkLoggerViaEffect, effectLoggerLayerVia, GLOG_SITE, glogEffectLogger } from "./glog-effect-logger.js"

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

describe("Effect's Logger and deepspark's Logger as one", () => {
  it("effectLoggerVia: Effect.log lines come out through the CLI's GlogLogger, as its own lines do (severity, site, stream)", async () => {
    const lines: string[] = []
    const glog = new GlogLogger((l) => lines.push(l))
    glog.info("Center listening on 127.0.0.1:7077", "center")
    await Effect.runPromise(
      Effect.logError("center test failed").pipe(Effect.annotateLogs(GLOG_SITE, "center-service.ts:131"), Effect.provide(effectLoggerLayerVia(glog)))
    )
    const prefix = `\\d{4} \\d{2}:\\d{2}:\\d{2}\\.\\d{6} ${process.pid} `
    expect(lines[0]).toMatch(new RegExp(`^I${prefix}center\\] Center listening on 127\\.0\\.0\\.1:7077$`))
    expect(lines[1]).toMatch(new RegExp(`^E${prefix}center-service\\.ts:131\\] center test failed$`))
  })

  it("deepsparkLoggerViaEffect: a run's Caffe lines (and already formatted glog lines) reach the program's Effect Logger at their severity and site", async () => {
    const seen: Array<{ level: string; text: string; site: unknown }> = []
    const capture = Logger.make(({ logLevel, message, annotations }) =>
      seen.push({ level: logLevel.label, text: String(Array.isArray(message) ? message[0] : message), site: HashMap.get(annotations, GLOG_SITE).pipe(Option.getOrUndefined) })
    )
    await Effect.runPromise(
      Effect.gen(function* () {
        const log = deepsparkLoggerViaEffect(yield* Effect.runtime<never>())
        log.info("Solving lenet", "solver.ts:145")
        log.warn("Worker worker1 re-registered")
        log.glogLine("I1206 13:23:54.160585 19395 evaluator.ts:82]     Test net output #0: accuracy = 0.98")
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
    )
    expect(seen).toEqual([
      { level: "INFO", text: "Solving lenet", site: "solver.ts:145" },
      { level: "WARN", text: "Worker worker1 re-registered", site: undefined },
      { level: "INFO", text: "    Test net output #0: accuracy = 0.98", site: "evaluator.ts:82" }
    ])
  })
})
