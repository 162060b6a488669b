import { totalmem } from "node:os"
import { Data } from "effect"

/**
 * How much memory a net may ask for: its blobs (values and gradients) and parameters are checked against
 * a limit before they are allocated, so a net that cannot fit (`num_output: 2000000` on an 800-wide
 * input: 12.8 GB of weights and gradients) is refused with the layer and blob named instead of being
 * allocated until the kernel kills the process. The limit is the machine's memory unless
 * DEEPSPARK_MAX_MEMORY (bytes; the CLI's --max-memory sets it, so threads and child processes see it)
 * says otherwise. The check is per net and counts what the net's own shapes say; solver history and
 * the runtime's own memory come on top.
 */
export const MAX_MEMORY_ENV = "DEEPSPARK_MAX_MEMORY"

/** The limit in bytes: DEEPSPARK_MAX_MEMORY when it is a positive number, else the machine's memory. */
export const memoryLimit = (): number => {
  const given = Number(process.env[MAX_MEMORY_ENV])
  return Number.isFinite(given) && given > 0 ? given : totalmem()
}

/** Bytes as people read them: 6.40 GB (decimal units, as `free -h` and most tools print). */
export const formatBytes = (n: number): string => {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB"]
  let v = n
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(2)} ${units[u]}`
}

/** What needs the memory: a layer's blob (a top, a parameter) or a field that sizes it. */
export interface MemoryNeed {
  readonly layer: string
  readonly type: string
  /** Which blob, as a reader finds it: `top "ip1" (64×2000000)`, `parameter 0 (2000000×800)`. */
  readonly blob: string
  readonly bytes: number
  /** The field that sizes it, when one does (`data_param.batch_size: 2000000000`). */
  readonly field?: string
}

/** A net's blobs would need more memory than the limit. */
export class MemoryLimitError extends Data.TaggedError("MemoryLimitError")<
  MemoryNeed & {
    /** Everything the net needs up to and including this blob. */
    readonly total: number
    readonly limit: number
  }
> {
  override get message(): string {
    const field = this.field !== undefined ? ` (${this.field})` : ""
    return (
      `layer '${this.layer}'${this.type === "" ? "" : ` (${this.type})`}: ${this.blob}${field} needs ${formatBytes(this.bytes)}; ` +
      `the net needs ${formatBytes(this.total)} with it, over the limit of ${formatBytes(this.limit)} ` +
      `(this machine's memory, or --max-memory / ${MAX_MEMORY_ENV})`
    )
  }
}

/** Running total of a net's memory, refusing the first need that takes it over the limit. */
export class MemoryBudget {
  used = 0
  constructor(readonly limit: number = memoryLimit()) {}
  reserve(need: MemoryNeed): void {
    const total = this.used + need.bytes
    if (!(total <= this.limit)) throw new MemoryLimitError({ ...need, total, limit: this.limit })
    this.used = total
  }
}
