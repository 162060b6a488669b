import { CliUsageError } from "./command.js"

/**
 * Caffe's tools take gflags-style `-solver x`; deepspark's commands parse `--solver x`. Any argument of
 * the form `-name` / `-name=value` (a letter after a single dash) becomes `--name…`; negative numbers
 * (`-1`), a lone `-` and everything after `--` are left alone.
 */
export const normalizeFlags = (argv: ReadonlyArray<string>): string[] => {
  const out: string[] = []
  let rest = false
  for (const a of argv) {
    if (rest) out.push(a)
    else if (a === "--") {
      rest = true
      out.push(a)
    } else out.push(/^-[A-Za-z]/.test(a) ? `-${a}` : a)
  }
  return out
}

export type OptionType = "string" | "number" | "boolean" | "strings"

export interface OptionSpec {
  /** As written on the command line, without dashes; `-` and `_` are interchangeable. */
  readonly name: string
  readonly type: OptionType
  readonly description: string
  /** For help: the value placeholder ("FILE", "TRAIN|TEST"). */
  readonly value?: string
}

export type OptionValue = string | number | boolean | ReadonlyArray<string>

export interface ParsedOptions {
  readonly options: ReadonlyMap<string, OptionValue>
  readonly positionals: ReadonlyArray<string>
}

const key = (name: string): string => name.replaceAll("-", "_")

/**
 * Parses `--flag value`, `--flag=value`, boolean `--flag` / `--flag=false` / `--noflag` / `--no-flag`,
 * repeatable `strings` options, and positionals (anything else; all of them after `--`). Expects
 * normalizeFlags to have run. Unknown or malformed options → CliUsageError.
 */
export const parseOptions = (argv: ReadonlyArray<string>, specs: ReadonlyArray<OptionSpec>): ParsedOptions => {
  const byKey = new Map(specs.map((s) => [key(s.name), s]))
  const options = new Map<string, OptionValue>()
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--") {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!a.startsWith("--")) {
      positionals.push(a)
      continue
    }
    const eq = a.indexOf("=")
    const rawName = eq < 0 ? a.slice(2) : a.slice(2, eq)
    let spec = byKey.get(key(rawName))
    let negated = false
    if (spec === undefined) {
      const stripped = key(rawName).replace(/^no_?/, "")
      const candidate = byKey.get(stripped)
      if (candidate?.type === "boolean" && stripped !== key(rawName)) {
        spec = candidate
        negated = true
      }
    }
    if (spec === undefined) throw new CliUsageError(`unknown option --${rawName}`)
    const name = key(spec.name)
    if (spec.type === "boolean") {
      if (eq < 0) options.set(name, !negated)
      else {
        const v = a.slice(eq + 1).toLowerCase()
        if (v !== "true" && v !== "false" && v !== "1" && v !== "0") throw new CliUsageError(`--${spec.name} takes true or false, got '${a.slice(eq + 1)}'`)
        options.set(name, (v === "true" || v === "1") !== negated)
      }
      continue
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new CliUsageError(`--${spec.name} needs a value${spec.value ? ` (${spec.value})` : ""}`)
    if (spec.type === "number") {
      const n = Number(value)
      if (value.trim() === "" || !Number.isFinite(n)) throw new CliUsageError(`--${spec.name} takes a number, got '${value}'`)
      options.set(name, n)
    } else if (spec.type === "strings") {
      options.set(name, [...((options.get(name) as ReadonlyArray<string> | undefined) ?? []), value])
    } else options.set(name, value)
  }
  return { options, positionals }
}

/** `--name VALUE  description` lines for help output. */
export const describeOptions = (specs: ReadonlyArray<OptionSpec>): string[] => {
  const heads = specs.map((s) => `  --${s.name}${s.type === "boolean" ? "" : ` ${s.value ?? s.type.toUpperCase()}`}`)
  const width = Math.max(...heads.map((h) => h.length)) + 2
  return specs.map((s, i) => `${heads[i]!.padEnd(width)}${s.description}${s.type === "strings" ? " (repeatable)" : ""}`)
}
