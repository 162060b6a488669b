import type { OptionSpec, ParsedOptions } from "./argv.js"
import { CliUsageError } from "./command.js"

/**
 * `--max-memory SIZE`: refuse a net whose blobs and parameters would need more than SIZE (the engine
 * checks before allocating; the default is this machine's memory). Without the engine, so `deepspark
 * worker`'s supervisor can offer it: it is passed on as DEEPSPARK_MAX_MEMORY (the variable
 * @deepspark/caffe's memoryLimit reads), which worker threads and trainer processes inherit.
 */
export const maxMemoryOption: OptionSpec = {
  name: "max-memory",
  type: "string",
  value: "SIZE",
  description: "refuse a net that needs more than SIZE bytes (e.g. 8G, 512M; default: this machine's memory)"
}

const UNITS: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 }

/** "8G", "512MB", "1.5GiB", "1000000" → bytes; undefined when it is not a size. */
export const parseByteSize = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$/i.exec(text)
  if (!m) return undefined
  const bytes = Math.round(Number(m[1]) * UNITS[(m[2] ?? "").toLowerCase()]!)
  return bytes > 0 ? bytes : undefined
}

/** Applies --max-memory to this process and those it starts. */
export const applyMaxMemory = (p: ParsedOptions): void => {
  const given = p.string("max-memory")
  if (given === undefined) return
  const bytes = parseByteSize(given)
  if (bytes === undefined) throw new CliUsageError(`--max-memory expects a size such as 8G or 512M, got '${given}'`)
  process.env.DEEPSPARK_MAX_MEMORY = String(bytes)
}
