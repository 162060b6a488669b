import { GlogLogger, silentLogger, type Logger } from "@deepspark/engine"
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * A distributed worker's own Caffe log, as glog gives each Caffe process its own log file: the glog
 * lines its solver writes (`Iteration N (x iter/s, …), loss = …`, `Train net output #k: …`,
 * `Iteration N, lr = …`), which Caffe's tools/extra/parse_log.py reads as it reads a `caffe train` log.
 * Lines written before the worker knows where it starts are kept until `start`: a worker that starts at
 * iteration 0 begins the file anew (a fresh file per run; a worker restarted before its first exchange
 * starts its curve again), one that resumes continues it.
 */
export interface WorkerLog {
  readonly log: Logger
  readonly start: (fresh: boolean) => void
}

/** Lines kept before `start` (the net's construction lines; a bound, not a limit one reaches). */
const MAX_EARLY_LINES = 10_000

export const workerLog = (options: { readonly file?: string; readonly echo?: (line: string) => void }): WorkerLog => {
  const { file, echo } = options
  if (file === undefined && echo === undefined) return { log: silentLogger, start: () => {} }
  let fd: number | undefined
  const early: string[] = []
  const log = new GlogLogger((line) => {
    echo?.(line)
    if (file === undefined) return
    if (fd !== undefined) fs.writeSync(fd, line + "\n")
    else if (early.length < MAX_EARLY_LINES) early.push(line)
  })
  return {
    log,
    start: (fresh) => {
      if (file === undefined) return
      if (fd !== undefined) fs.closeSync(fd)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fd = fs.openSync(file, fresh ? "w" : "a")
      if (early.length > 0) fs.writeSync(fd, early.join("\n") + "\n")
      early.length = 0
    }
  }
}
