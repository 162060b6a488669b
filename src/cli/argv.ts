/**
 * The one command-line parser of every `deepspark` command (and of src/cli/remote-main.ts, which runs the
 * network commands without the dispatcher). A command declares its options as OptionSpecs; this file
 * reads argv against them:
 *
 * - Caffe's gflags style `-solver S` and GNU style `--solver S` / `--solver=S`; `-` and `_` are
 *   interchangeable in names (`--checkpoint-every` = `-checkpoint_every`).
 * - booleans: `--json`, `--json=true|false|1|0|yes|no`, `--nojson`, `--no-json`.
 * - `strings` options repeat (`--stage a --stage b`); other options given twice keep the last value.
 * - numbers are checked here (a number, an integer, at least `min`), so every command words them alike.
 * - positionals: any other argument, and everything after `--`. A lone `-` and negative numbers
 *   (`-1`) are positionals, not flags.
 * - mistakes are CliUsageErrors naming the flag as written: unknown options, missing values, bad numbers.
 */
import { CliUsageError } from "./command.js"

export type OptionType = "string" | "number" | "integer" | "boolean" | "strings"

export interface OptionSpec {
  /** As written on the command line, without dashes; `-` and `_` are interchangeable. */
  readonly name: string
  readonly type: OptionType
  readonly description: string
  /** For help: the value placeholder ("FILE", "TRAIN|TEST"). */
  readonly value?: string
  /** number / integer: the least value accepted … */
  readonly min?: number
  /** … and whether `min` itself is refused (a number > 0: `min: 0, minExclusive: true`). */
  readonly minExclusive?: boolean
}

export type OptionValue = string | number | boolean | ReadonlyArray<string>

export interface ParsedOptions {
  /** The options given, by snake_case name. */
  readonly options: ReadonlyMap<string, OptionValue>
  readonly positionals: ReadonlyArray<string>
  has(name: string): boolean
  /** A `string` option's value. */
  string(name: string): string | undefined
  /** A `number` or `integer` option's value (already checked against its spec). */
  number(name: string): number | undefined
  /** A `boolean` option: true when given (and not negated). */
  flag(name: string): boolean
  /** A `strings` option's values, in order (empty when absent). */
  strings(name: string): ReadonlyArray<string>
}

/** The snake_case key an option is stored under. */
export const optionKey = (name: string): string => name.replaceAll("-", "_")

/** `-name`, `--name`, `-name=v`, `--name=v` (a letter after the dashes): a flag; anything else is not. */
const FLAG = /^--?([A-Za-z][^=]*)(?:=([\s\S]*))?$/

const BOOLEAN_VALUES: Readonly<Record<string, boolean>> = { true: true, "1": true, yes: true, false: false, "0": false, no: false }

const checkNumber = (spec: OptionSpec, written: string, raw: string): number => {
  const n = Number(raw)
  const integer = spec.type === "integer"
  const bound = spec.min === undefined ? "" : ` ${spec.minExclusive ? ">" : "≥"} ${spec.min}`
  const ok =
    raw.trim() !== "" &&
    Number.isFinite(n) &&
    (!integer || Number.isInteger(n)) &&
    (spec.min === undefined || (spec.minExclusive ? n > spec.min : n >= spec.min))
  if (!ok) throw new CliUsageError(`${written} takes ${integer ? "an integer" : "a number"}${bound}, got '${raw}'`)
  return n
}

/** Reads argv against `specs`. Unknown or malformed options → CliUsageError. */
export const parseOptions = (argv: ReadonlyArray<string>, specs: ReadonlyArray<OptionSpec>): ParsedOptions => {
  const byKey = new Map(specs.map((s) => [optionKey(s.name), s]))
  const options = new Map<string, OptionValue>()
  const positionals: string[] = []
  /** The spec a flag name refers to: itself, or a boolean it negates (`nojson`, `no-json`). */
  const lookup = (rawName: string): { spec: OptionSpec; negated: boolean } | undefined => {
    const spec = byKey.get(optionKey(rawName))
    if (spec !== undefined) return { spec, negated: false }
    const stripped = optionKey(rawName).replace(/^no_?/, "")
    const negated = byKey.get(stripped)
    return negated?.type === "boolean" && stripped !== optionKey(rawName) ? { spec: negated, negated: true } : undefined
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--") {
      positionals.push(...argv.slice(i + 1))
      break
    }
    const m = FLAG.exec(a)
    if (m === null) {
      positionals.push(a)
      continue
    }
    const written = `${a.startsWith("--") ? "--" : "-"}${m[1]!}`
    const inline = m[2]
    const found = lookup(m[1]!)
    if (found === undefined) throw new CliUsageError(`unknown option ${written}`)
    const { spec, negated } = found
    const key = optionKey(spec.name)
    if (spec.type === "boolean") {
      if (inline === undefined) options.set(key, !negated)
      else {
        const v = BOOLEAN_VALUES[inline.toLowerCase()]
        if (v === undefined) throw new CliUsageError(`${written} takes true or false, got '${inline}'`)
        options.set(key, v !== negated)
      }
      continue
    }
    let value = inline
    if (value === undefined) {
      const next = argv[i + 1]
      // `--solver --json`: the value was forgotten; "--json" is not meant as a file name.
      const nextName = next === undefined ? undefined : FLAG.exec(next)?.[1]
      if (next === undefined || (nextName !== undefined && lookup(nextName) !== undefined))
        throw new CliUsageError(`${written} needs a value${spec.value ? ` (${spec.value})` : ""}${next === undefined ? "" : `, got the option ${next}`}`)
      value = next
      i++
    }
    if (spec.type === "number" || spec.type === "integer") options.set(key, checkNumber(spec, written, value))
    else if (spec.type === "strings") options.set(key, [...((options.get(key) as ReadonlyArray<string> | undefined) ?? []), value])
    else options.set(key, value)
  }

  const declared = (name: string, types: ReadonlyArray<OptionType>): string => {
    const key = optionKey(name)
    const spec = byKey.get(key)
    // A programming error (the command reads an option it did not declare, or as another type).
    if (spec === undefined || !types.includes(spec.type)) throw new Error(`option --${name} is not declared as ${types.join(" or ")}`)
    return key
  }
  return {
    options,
    positionals,
    has: (name) => options.has(optionKey(name)),
    string: (name) => options.get(declared(name, ["string"])) as string | undefined,
    number: (name) => options.get(declared(name, ["number", "integer"])) as number | undefined,
    flag: (name) => options.get(declared(name, ["boolean"])) === true,
    strings: (name) => (options.get(declared(name, ["strings"])) as ReadonlyArray<string> | undefined) ?? []
  }
}

/** For commands that take flags only. */
export const noPositionals = (parsed: ParsedOptions): void => {
  const first = parsed.positionals[0]
  if (first !== undefined) throw new CliUsageError(`unexpected argument '${first}'`)
}

export const helpOption: OptionSpec = { name: "help", type: "boolean", description: "show this help" }

/** `--name VALUE  description` lines for help output. */
export const describeOptions = (specs: ReadonlyArray<OptionSpec>): string[] => {
  const heads = specs.map((s) => `  --${s.name}${s.type === "boolean" ? "" : ` ${s.value ?? s.type.toUpperCase()}`}`)
  const width = Math.max(...heads.map((h) => h.length)) + 2
  return specs.map((s, i) => `${heads[i]!.padEnd(width)}${s.description}${s.type === "strings" ? " (repeatable)" : ""}`)
}
