/**
 * A small flag parser for the center and worker commands, in Caffe's tool style: `-solver S`,
 * `--solver S`, `--solver=S`, boolean `--flag`. Names are normalised to snake_case so `--checkpoint-every`
 * and `-checkpoint_every` are the same flag. Unknown flags are usage errors, with the flag named.
 */

export class UsageError extends Error {
  readonly _tag = "UsageError"
}

export interface Flags {
  /** The flags given, by snake_case name. */
  readonly values: ReadonlyMap<string, string | true>
  string(name: string): string | undefined
  has(name: string): boolean
  /** An integer ≥ min, or the fallback when absent. */
  int(name: string, fallback: number, min?: number): number
  /** A number > 0 (or ≥ 0 with allowZero), or the fallback when absent. */
  number(name: string, fallback: number, allowZero?: boolean): number
}

export const parseFlags = (argv: ReadonlyArray<string>, valued: ReadonlyArray<string>, booleans: ReadonlyArray<string> = []): Flags => {
  const values = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!/^--?[A-Za-z]/.test(a)) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`)
    const body = a.replace(/^--?/, "")
    const eq = body.indexOf("=")
    const name = (eq < 0 ? body : body.slice(0, eq)).replaceAll("-", "_")
    if (valued.includes(name)) {
      const value = eq >= 0 ? body.slice(eq + 1) : argv[++i]
      if (value === undefined) throw new UsageError(`-${name} needs a value`)
      values.set(name, value)
    } else if (booleans.includes(name)) {
      if (eq >= 0) throw new UsageError(`-${name} takes no value`)
      values.set(name, true)
    } else throw new UsageError(`unknown flag ${a.split("=")[0]}`)
  }
  const string = (name: string) => {
    const v = values.get(name)
    return typeof v === "string" ? v : undefined
  }
  return {
    values,
    string,
    has: (name) => values.has(name),
    int: (name, fallback, min = 0) => {
      const v = string(name)
      if (v === undefined) return fallback
      const n = Number(v)
      if (!Number.isInteger(n) || n < min) throw new UsageError(`-${name} expects an integer ≥ ${min}, got ${JSON.stringify(v)}`)
      return n
    },
    number: (name, fallback, allowZero = false) => {
      const v = string(name)
      if (v === undefined) return fallback
      const n = Number(v)
      if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
        throw new UsageError(`-${name} expects a number ${allowZero ? "≥" : ">"} 0, got ${JSON.stringify(v)}`)
      return n
    }
  }
}

/** `i/N` → { index: i, count: N } with 0 ≤ i < N. */
export const parsePartition = (s: string): { index: number; count: number } => {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim())
  const index = m ? Number(m[1]) : NaN
  const count = m ? Number(m[2]) : NaN
  if (!m || !(count >= 1) || !(index < count)) throw new UsageError(`-partition expects i/N with 0 ≤ i < N, got ${JSON.stringify(s)}`)
  return { index, count }
}

/** True for addresses only this machine can reach. */
export const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host) || host === "::ffff:127.0.0.1"

export const MiB = 1024 * 1024

/**
 * `HOST:PORT` / `[v6]:PORT` / `:PORT` (= 127.0.0.1). The same grammar as transport/tcp.ts's
 * parseHostPort, kept here so `deepspark worker`'s supervisor process does not load Effect to parse it.
 */
export const parseAddress = (s: string, flag: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s.trim())
  if (!m) throw new UsageError(`-${flag} expects HOST:PORT, got ${JSON.stringify(s)}`)
  const port = Number(m[3])
  if (!(port >= 0 && port < 65536)) throw new UsageError(`-${flag}: port ${port} out of range`)
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port }
}

/** The shared secret: --token, else $DEEPSPARK_TOKEN, else none. */
export const tokenFrom = (flags: Flags, env: NodeJS.ProcessEnv): string | undefined => flags.string("token") ?? env.DEEPSPARK_TOKEN

/** What the dispatcher in src/cli/main.ts calls: same shape as the data commands'. */
export interface CommandIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}
export type Command = (argv: ReadonlyArray<string>, io: CommandIo) => Promise<number>

/** Runs a command body: usage errors print the usage (exit 2), other errors their message (exit 1). */
export const runCommand = async (io: CommandIo, usage: string, body: () => Promise<number>): Promise<number> => {
  try {
    return await body()
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\nusage: ${usage}`)
      return 2
    }
    io.stderr(`error: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

/** An AbortSignal fired by the first SIGINT/SIGTERM (the handlers go away when `dispose` is called). */
export const abortOnSignals = (): { signal: AbortSignal; dispose: () => void; received: () => NodeJS.Signals | undefined } => {
  const controller = new AbortController()
  let got: NodeJS.Signals | undefined
  const on = (s: NodeJS.Signals) => {
    got = s
    controller.abort()
  }
  process.once("SIGINT", on)
  process.once("SIGTERM", on)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", on)
      process.off("SIGTERM", on)
    },
    received: () => got
  }
}
