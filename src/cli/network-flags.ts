/**
 * Values of the network commands' flags (center, worker, runner): addresses, partitions, the token.
 * Plain string work, without Effect: `deepspark worker`'s supervisor process stays small.
 */
import type { ParsedOptions } from "./argv.js"
import { CliUsageError } from "./command.js"

export const MiB = 1024 * 1024

/**
 * `HOST:PORT` / `[v6]:PORT` / `:PORT` (= 127.0.0.1). The same grammar as transport/tcp.ts's
 * parseHostPort, kept here so that parsing a flag does not load Effect.
 */
export const parseAddress = (s: string, flag: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s.trim())
  if (!m) throw new CliUsageError(`--${flag} expects HOST:PORT, got ${JSON.stringify(s)}`)
  const port = Number(m[3])
  if (!(port >= 0 && port < 65536)) throw new CliUsageError(`--${flag}: port ${port} out of range`)
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port }
}

/** `i/N` → { index: i, count: N } with 0 ≤ i < N. */
export const parsePartition = (s: string): { index: number; count: number } => {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim())
  const index = m ? Number(m[1]) : NaN
  const count = m ? Number(m[2]) : NaN
  if (!m || !(count >= 1) || !(index < count)) throw new CliUsageError(`--partition expects i/N with 0 ≤ i < N, got ${JSON.stringify(s)}`)
  return { index, count }
}

export { isLoopbackHost } from "../transport/loopback-host.js"

/** The shared secret: --token, else $DEEPSPARK_TOKEN, else none. */
export const tokenFrom = (parsed: ParsedOptions, env: NodeJS.ProcessEnv): string | undefined => parsed.string("token") ?? env.DEEPSPARK_TOKEN

/** The cluster secret from `--cluster-secret` or DEEPSPARK_CLUSTER_SECRET; undefined when neither is given (or empty). */
export const clusterSecretFrom = (flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined => {
  const secret = flag ?? env.DEEPSPARK_CLUSTER_SECRET
  return secret === undefined || secret === "" ? undefined : secret
}
