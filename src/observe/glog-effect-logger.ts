import { glogPrefix } from "@deepspark/engine"
import { Cause, Logger, LogLevel, type Layer } from "effect"

/**
 * Effect's Logger writing glog lines (`Lmmdd hh:mm:ss.uuuuuu PID effect] message`), so `Effect.log`
 * from a program that drives deepspark reads like the CLI's and Caffe's lines (parse_log.py reads the
 * same prefix). Provide `GlogEffectLoggerLive` to a program, or `glogEffectLogger(sink)` for a sink of
 * your own.
 */
export const glogEffectLogger = (sink: (line: string) => void = (line) => void process.stderr.write(line + "\n")) =>
  Logger.make(({ logLevel, message, date, cause }) => {
    const severity = LogLevel.greaterThanEqual(logLevel, LogLevel.Error) ? "E" : LogLevel.greaterThanEqual(logLevel, LogLevel.Warning) ? "W" : "I"
    const parts = (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : JSON.stringify(m)))
    const text = parts.join(" ") + (Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause).split("\n")[0]}`)
    sink(glogPrefix(severity, date, (date.getTime() % 1000) * 1000, process.pid, "effect") + text)
  })

export const GlogEffectLoggerLive: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, glogEffectLogger())
