import * as fs from "node:fs"
import * as path from "node:path"

/**
 * A machine-readable record of a run, one JSON object per line (for plots and dashboards):
 * `{"t": seconds since start, "type": "...", ...fields}`. Each run writes a fresh file (an existing one
 * is replaced, so a plot never mixes two runs). Lines are written synchronously so a crash loses at
 * most the line being written.
 */
export interface EventLog {
  write(type: string, fields: Record<string, unknown>): void
  close(): void
  readonly file: string | undefined
}

export const openEventLog = (file: string | undefined, clock: () => number = () => Date.now()): EventLog => {
  const start = clock()
  if (!file) return { write: () => {}, close: () => {}, file: undefined }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const fd = fs.openSync(file, "w")
  let open = true
  return {
    file,
    write(type, fields) {
      if (!open) return
      const line = JSON.stringify({ t: Math.round(clock() - start) / 1000, type, ...fields }, (_, v) =>
        typeof v === "number" && !Number.isFinite(v) ? String(v) : v
      )
      fs.writeSync(fd, line + "\n")
    },
    close() {
      if (open) fs.closeSync(fd)
      open = false
    }
  }
}

/** Reads an event log back (skipping a torn last line). */
export const readEventLog = (file: string): Array<Record<string, unknown> & { t: number; type: string }> =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l)]
      } catch {
        return []
      }
    })
