/**
 * Shared plumbing for the data commands (data, convert-*, compute-mean): the command signature the
 * dispatcher calls, and a small flag parser for Caffe-tool style arguments (`--flag value`,
 * `--flag=value`, boolean `--flag` / `--noflag`).
 */

import path from "node:path"

export interface CommandIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Working directory for relative paths (default process.cwd()). */
  readonly cwd?: string
}

/** A path argument resolved against the command's working directory. */
export const resolvePath = (io: CommandIo, p: string): string => path.resolve(io.cwd ?? process.cwd(), p)

export type Command = (argv: ReadonlyArray<string>, io: CommandIo) => Promise<number>

export const processIo: CommandIo = {
  stdout: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
}

export class UsageError extends Error {}

export interface ParsedArgs {
  readonly positional: Array<string>
  readonly flags: Map<string, string | boolean>
}

/** Parses argv; `booleans` lists flags that take no value. Unknown flags are a usage error. */
export const parseArgs = (argv: ReadonlyArray<string>, valued: ReadonlyArray<string>, booleans: ReadonlyArray<string>): ParsedArgs => {
  const positional: Array<string> = []
  const flags = new Map<string, string | boolean>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith("--") || a === "--") {
      positional.push(a)
      continue
    }
    const eq = a.indexOf("=")
    const name = (eq < 0 ? a.slice(2) : a.slice(2, eq)).replaceAll("-", "_")
    if (valued.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i]
      if (value === undefined) throw new UsageError(`--${name} needs a value`)
      flags.set(name, value)
    } else if (booleans.includes(name)) {
      flags.set(name, eq < 0 ? true : !["false", "0", "no"].includes(a.slice(eq + 1)))
    } else if (name.startsWith("no") && booleans.includes(name.slice(2)) && eq < 0) {
      flags.set(name.slice(2), false)
    } else {
      throw new UsageError(`unknown option --${name}`)
    }
  }
  return { positional, flags }
}

export const intFlag = (args: ParsedArgs, name: string, fallback: number): number => {
  const v = args.flags.get(name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} expects a non-negative integer, got "${String(v)}"`)
  return n
}

/** Runs a command body: usage errors print usage (exit 2), other errors their message (exit 1). */
export const runCommand = async (io: CommandIo, usage: string, body: () => Promise<number>): Promise<number> => {
  try {
    return await body()
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\nusage: ${usage}`)
      return 2
    }
    io.stderr(`error: ${(e as Error).message}`)
    return 1
  }
}
