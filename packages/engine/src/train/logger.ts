/**
 * Log lines in glog's format, as Caffe writes them: `Lmmdd hh:mm:ss.uuuuuu PID file:line] message`,
 * L ∈ {I, W, E, F}. tools/extra/parse_log.py reads the month/day from the first token and the time
 * from the second, so the prefix keeps glog's classic (year-less) form.
 *
 * Training code writes through the `Logger` interface; the CLI logs to stderr (as glog does), tests
 * capture the lines.
 */
export type LogSeverity = "I" | "W" | "E" | "F"

export interface Logger {
  /** `site` is the "file:line" shown in the prefix; by default the caller's own file and line. */
  info(message: string, site?: string): void
  warn(message: string, site?: string): void
  error(message: string, site?: string): void
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/** The glog prefix for a moment (local time, like glog), a process id and a "file:line". */
export const glogPrefix = (severity: LogSeverity, date: Date, micros: number, pid: number, site: string): string =>
  `${severity}${pad(date.getMonth() + 1, 2)}${pad(date.getDate(), 2)} ` +
  `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.${pad(micros, 6)} ` +
  `${pid} ${site}] `

/** Finds "file.ts:line" of the code that called the logger (the third frame of a fresh stack). */
const callerSite = (): string => {
  const stack = new Error().stack ?? ""
  const lines = stack.split("\n")
  // [0] "Error", [1] callerSite, [2] GlogLogger.write, [3] GlogLogger.info/warn/error, [4] the caller.
  const frame = lines[4] ?? ""
  const m = /([^/\\(\s]+?):(\d+):\d+\)?\s*$/.exec(frame)
  return m ? `${m[1]}:${m[2]}` : "deepspark:0"
}

/** A logger that formats glog lines and hands each finished line to `sink`. */
export class GlogLogger implements Logger {
  constructor(
    private readonly sink: (line: string, severity: LogSeverity) => void,
    private readonly pid: number = process.pid,
    private readonly clock: () => number = () => performance.timeOrigin + performance.now()
  ) {}

  info(message: string, site?: string): void {
    this.write("I", message, site)
  }
  warn(message: string, site?: string): void {
    this.write("W", message, site)
  }
  error(message: string, site?: string): void {
    this.write("E", message, site)
  }

  private write(severity: LogSeverity, message: string, site: string | undefined): void {
    const ms = this.clock()
    const date = new Date(Math.floor(ms))
    const micros = Math.floor((ms - Math.floor(ms / 1000) * 1000) * 1000) % 1_000_000
    this.sink(glogPrefix(severity, date, micros, this.pid, site ?? callerSite()) + message, severity)
  }
}

/** Collects the lines (with prefix) and the bare messages, for tests and for callers that parse them. */
export class CapturingLogger implements Logger {
  readonly lines: string[] = []
  readonly messages: string[] = []
  private readonly glog = new GlogLogger((line) => this.lines.push(line))

  info(message: string, site?: string): void {
    this.messages.push(message)
    this.glog.info(message, site ?? "capture:0")
  }
  warn(message: string, site?: string): void {
    this.messages.push(message)
    this.glog.warn(message, site ?? "capture:0")
  }
  error(message: string, site?: string): void {
    this.messages.push(message)
    this.glog.error(message, site ?? "capture:0")
  }
}

/** Discards everything (e.g. a distributed worker that reports through its own channel). */
export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {}
}
