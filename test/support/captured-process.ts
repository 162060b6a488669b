import type { ChildProcess } from "node:child_process"

/** Test support: a spawned process (started with stdout and stderr piped) whose output is collected. */
export interface CapturedProcess {
  readonly child: ChildProcess
  /** stdout and stderr so far, interleaved as they arrived. */
  readonly out: () => string
  readonly exit: Promise<number | null>
}

/** Collects the child's stdout and stderr together, handing each non-empty line of a chunk to `onLine`. */
export const captureOutput = (child: ChildProcess, onLine?: (line: string) => void): CapturedProcess => {
  let out = ""
  const take = (b: Buffer) => {
    const text = b.toString()
    out += text
    for (const line of text.split("\n")) if (line) onLine?.(line)
  }
  child.stdout!.on("data", take)
  child.stderr!.on("data", take)
  return { child, out: () => out, exit: new Promise((resolve) => child.on("exit", (code) => resolve(code))) }
}
