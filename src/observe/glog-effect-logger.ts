import { glogPrefix, type Logger as DeepsparkLogger } from "@deepspark/engine"
import { Cause, Effect, HashMap, Logger, LogLevel, Option, Runtime, type Layer } from "effect"

/**
 * Effect's Logger and deepspark's log lines as one: glog's format (`Lmmdd hh:mm:ss.uuuuuu PID site]
 * message`, the prefix Caffe's parse_log.py reads) whichever side writes.
 *
 * - `glogEffectLogger(sink)` / `GlogEffectLoggerLive`: `Effect.log` writes glog lines (stderr by default).
 * - `effectLoggerVia(log)`: `Effect.log` goes through a deepspark Logger — the CLI gives its own, so the
 *   center's `Effect.logError` and the CLI's lines come out alike, on the same stream.
 * - `deepsparkLoggerViaEffect(runtime)`: the other way, a run's Caffe lines go to the Effect Logger of the
 *   program that started it (what `Training.distributed` logs through unless given a `log`).
 * The glog "file:line" site travels as the log annotation `glog.site`.
 */
export const GLOG_SITE = "glog.site"

const textOf = (message: unknown, cause: Cause.Cause<unknown>) =>
  (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ") +
  (Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause).split("\n")[0]}`)

const severityOf = (level: LogLevel.LogLevel) =>
  LogLevel.greaterThanEqual(level, LogLevel.Error) ? "E" : LogLevel.greaterThanEqual(level, LogLevel.Warning) ? "W" : "I"

const siteOf = (annotations: HashMap.HashMap<string, unknown>) =>
  Option.getOrElse(Option.map(HashMap.get(annotations, GLOG_SITE), String), () => "effect")

export const glogEffectLogger = (sink: (line: string) => void = (line) => void process.stderr.write(line + "\n")) =>
  Logger.make(({ logLevel, message, date, cause, annotations }) => {
    sink(glogPrefix(severityOf(logLevel), date, (date.getTime() % 1000) * 1000, process.pid, siteOf(annotations)) + textOf(message, cause))
  })

export const GlogEffectLoggerLive: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, glogEffectLogger())

/** Effect's Logger writing through a deepspark Logger (which formats and places the lines). */
export const effectLoggerVia = (log: DeepsparkLogger) =>
  Logger.make(({ logLevel, message, cause, annotations }) => {
    const text = textOf(message, cause)
    const site = siteOf(annotations)
    const severity = severityOf(logLevel)
    if (severity === "E") log.error(text, site)
    else if (severity === "W") log.warn(text, site)
    else log.info(text, site)
  })

/** `effectLoggerVia(log)` as the program's only Logger. */
export const effectLoggerLayerVia = (log: DeepsparkLogger): Layer.Layer<never> => Logger.replace(Logger.defaultLogger, effectLoggerVia(log))

/** A deepspark Logger whose lines go to the Effect Logger(s) of `runtime` (the program that runs the training). */
export const deepsparkLoggerViaEffect = (runtime: Runtime.Runtime<never>): DeepsparkLogger & { readonly glogLine: (line: string) => void } => {
  const run = Runtime.runSync(runtime)
  const write = (level: "info" | "warn" | "error", message: string, site: string | undefined) => {
    const logged = level === "error" ? Effect.logError(message) : level === "warn" ? Effect.logWarning(message) : Effect.logInfo(message)
    run(site === undefined ? logged : Effect.annotateLogs(logged, GLOG_SITE, site))
  }
  return {
    info: (message, site) => write("info", message, site),
    warn: (message, site) => write("warn", message, site),
    error: (message, site) => write("error", message, site),
    /** A line already in glog's format (the evaluator's test lines): its message and site, at its severity. */
    glogLine: (line) => {
      const m = /^([IWEF])\d{4} \S+ \d+ (\S+)\] ?(.*)$/.exec(line)
      if (!m) return write("info", line, undefined)
      write(m[1] === "E" || m[1] === "F" ? "error" : m[1] === "W" ? "warn" : "info", m[3]!, m[2]!)
    }
  }
}
