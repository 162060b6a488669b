import { Data } from "effect"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { defaultCpuThreads } from "../../src/cli/backend-option.js"
import { updateRules } from "../../src/easgd/index.js"
import { makeEasgdSettings } from "../../src/easgd/settings.js"

/** One rule with one combination of settings: a row group of the table. */
export interface RuleVariant {
  readonly rule: string
  /** The settings given by flags for this rule (snake_case → value), passed to makeEasgdSettings. */
  readonly settings: Readonly<Record<string, string>>
}

export interface AccuracyBenchOptions {
  /** Distributed rules to run (the single solver is the baseline, run for every seed whatever this says). */
  readonly variants: ReadonlyArray<RuleVariant>
  /** Worker counts for the distributed rules. */
  readonly workers: ReadonlyArray<number>
  /**
   * GEMM threads of the lone solver, one baseline run per value and seed; the first is the baseline of
   * the ratios. Default: what `deepspark train -solver` uses (every core, or DEEPSPARK_CPU_THREADS).
   */
  readonly solverThreads: ReadonlyArray<number>
  /** Solver random_seed values; every cell runs once per seed and reports the median. */
  readonly seeds: ReadonlyArray<number>
  /** Ascending; a run stops at the last. */
  readonly targets: ReadonlyArray<number>
  readonly capSeconds: number
  readonly testInterval: number
  readonly backend: string
  readonly outDir: string
  readonly quick: boolean
  /** Print the table from every matching record in results.jsonl instead of running. */
  readonly report: boolean
}

/** Flags of the benchmark itself; any other `--name=value` is an EASGD setting. */
const benchFlags = new Set(["rules", "rule", "workers", "solver-threads", "seeds", "seed-base", "targets", "cap-s", "test-interval", "backend", "out", "quick", "report"])

export class AccuracyArgsError extends Data.TaggedError("AccuracyArgsError")<{ readonly message: string }> {}

const bad = (message: string) => new AccuracyArgsError({ message: `bench accuracy: ${message}` })

const positive = (flag: string, raw: string, integer: boolean): number => {
  const v = Number(raw)
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw bad(`--${flag} must be a positive ${integer ? "integer" : "number"} (got ${JSON.stringify(raw)})`)
  return v
}

const list = (raw: string): string[] => raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0)

/**
 * Whether a setting given for every rule applies to `rule`: when the rule reads it, or when no rule
 * claims it (period, adaptive_period, lr_scaling, lr_warmup: every rule honours them). `--moving-rate`
 * thus reaches the elastic rules and not diloco, `--outer-lr` the outer-momentum rules only.
 */
export const globalSettingApplies = (rule: string, setting: string): boolean => {
  const reads = (r: { readonly settings: ReadonlyArray<string> }) => r.settings.includes(setting)
  const own = updateRules.find((r) => r.name === rule)
  return (own !== undefined && reads(own)) || !updateRules.some(reads)
}

/** Every combination of the listed values: {a: [1, 2], b: [3]} → [{a: 1, b: 3}, {a: 2, b: 3}]. */
export const combinations = (lists: Readonly<Record<string, ReadonlyArray<string>>>): Array<Record<string, string>> => {
  let out: Array<Record<string, string>> = [{}]
  for (const [key, values] of Object.entries(lists)) out = out.flatMap((o) => values.map((v) => ({ ...o, [key]: v })))
  return out
}

/** The rules the quick mode runs: the settings' default rule and one rule that adds the workers' progress. */
const quickRules = (available: ReadonlyArray<string>): string[] => {
  const defaultRule = makeEasgdSettings({}).rule
  const adding = ["diloco", "downpour"].find((r) => available.includes(r) && r !== defaultRule)
  return [defaultRule, ...(adding ? [adding] : [])]
}

/**
 * Reads the flags (`=` form; bare words such as the suite name are ignored):
 *   --rules=a,b         distributed rules (default: every rule src/easgd exports but `single`); --rule=a too
 *   --workers=2,4,8     worker counts for them (1 runs the rule with one worker; the single solver always runs)
 *   --solver-threads=2,1  the lone solver's GEMM threads, one baseline per value, the first for the ratios
 *                       (default: as `deepspark train -solver` runs it, every core or DEEPSPARK_CPU_THREADS)
 *   --seeds=3           solver random_seed values seed-base … seed-base+seeds−1 (--seed-base=1701)
 *   --targets=0.985,0.99  --cap-s=420  --test-interval=250  --backend=cpu  --out=DIR
 *   --quick             1 seed, 2 rules, 2 workers, cap 120 s (flags given beside it win)
 *   --report            print the table from every record in --out's results.jsonl with this test interval and backend
 * Any other `--NAME=V` is an EASGD setting for every rule that reads it (`--period=10`, `--moving-rate=0.2`,
 * `--outer-lr=0.7`; see globalSettingApplies); `--RULE.NAME=V` sets it for one rule (`--diloco.period=50`).
 * A value `a,b` runs both (one row each).
 */
export const parseAccuracyArgs = (
  argv: ReadonlyArray<string>,
  availableRules: ReadonlyArray<string>,
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env
): AccuracyBenchOptions => {
  const { values, tokens } = parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true })
  const str = (name: string): string | undefined => {
    const v = values[name]
    if (v === undefined) return undefined
    if (typeof v !== "string") throw bad(`--${name} needs a value (--${name}=…)`)
    return v
  }
  const quick = values.quick === true || values.quick === "true"
  const report = values.report === true || values.report === "true"
  const distributed = availableRules.filter((r) => r !== "single")

  const rulesRaw = str("rules") ?? str("rule")
  const rules = rulesRaw !== undefined ? list(rulesRaw) : quick ? quickRules(distributed) : distributed
  for (const r of rules)
    if (!availableRules.includes(r)) throw bad(`unknown rule ${JSON.stringify(r)} in --rules (available: ${availableRules.join(", ")})`)

  // Settings: every flag the benchmark does not know, global or `rule.name`.
  const global: Record<string, string[]> = {}
  const perRule: Record<string, Record<string, string[]>> = {}
  for (const t of tokens ?? []) {
    if (t.kind !== "option" || benchFlags.has(t.name)) continue
    if (t.value === undefined) throw bad(`--${t.name} needs a value (--${t.name}=…)`)
    const dot = t.name.indexOf(".")
    const [rule, name] = dot < 0 ? [undefined, t.name] : [t.name.slice(0, dot), t.name.slice(dot + 1)]
    const key = name.replace(/-/g, "_")
    if (rule !== undefined && !availableRules.includes(rule)) throw bad(`--${t.name}: unknown rule ${JSON.stringify(rule)} (available: ${availableRules.join(", ")})`)
    const target = rule === undefined ? global : (perRule[rule] ??= {})
    target[key] = list(t.value)
    if (target[key].length === 0) throw bad(`--${t.name} needs a value`)
  }
  const variants: RuleVariant[] = []
  for (const rule of rules) {
    if (rule === "single") continue // the baseline, always run
    const applying = Object.fromEntries(Object.entries(global).filter(([k]) => globalSettingApplies(rule, k)))
    for (const settings of combinations({ ...applying, ...(perRule[rule] ?? {}) })) {
      try {
        makeEasgdSettings({ ...settings, rule })
      } catch (e) {
        const flags = Object.entries(settings).map(([k, v]) => `--${k.replace(/_/g, "-")}=${v}`).join(" ")
        throw bad(`rule ${rule} with ${flags || "its defaults"}: ${e instanceof Error ? e.message : String(e)}`)
      }
      variants.push({ rule, settings })
    }
  }

  const workers = list(str("workers") ?? (quick ? "2" : "2,4,8")).map((w) => positive("workers", w, true))
  const solverThreadsRaw = str("solver-threads")
  const solverThreads = solverThreadsRaw !== undefined ? list(solverThreadsRaw).map((t) => positive("solver-threads", t, true)) : [defaultCpuThreads(true, env)]
  if (solverThreads.length === 0) throw bad("--solver-threads needs at least one value")
  const seedCount = positive("seeds", str("seeds") ?? (quick ? "1" : "3"), true)
  const seedBase = Number(str("seed-base") ?? "1701")
  if (!Number.isInteger(seedBase) || seedBase < 0) throw bad(`--seed-base must be an integer ≥ 0 (got ${JSON.stringify(str("seed-base"))})`)
  const targets = list(str("targets") ?? "0.985,0.99").map((t) => {
    const v = Number(t)
    if (!(v > 0 && v <= 1)) throw bad(`--targets must be accuracies in (0, 1] (got ${JSON.stringify(t)})`)
    return v
  })
  if (targets.length === 0) throw bad("--targets needs at least one accuracy")
  return {
    variants,
    workers: [...new Set(workers)].sort((a, b) => a - b),
    solverThreads: [...new Set(solverThreads)],
    seeds: Array.from({ length: seedCount }, (_, i) => seedBase + i),
    targets: [...new Set(targets)].sort((a, b) => a - b),
    capSeconds: positive("cap-s", str("cap-s") ?? (quick ? "120" : "420"), false),
    testInterval: positive("test-interval", str("test-interval") ?? "250", true),
    backend: str("backend") ?? "cpu",
    outDir: path.resolve(str("out") ?? path.join(repoRoot, "out/bench-accuracy")),
    quick,
    report
  }
}

/** A variant's label for tables: the period it runs with (given or the rule's default), then the other settings given. */
export const settingsLabel = (rule: string, settings: Readonly<Record<string, string>>): string => {
  const period = settings.period ?? String(makeEasgdSettings({ rule }).period)
  const others = Object.entries(settings)
    .filter(([k]) => k !== "period")
    .sort(([a], [b]) => a.localeCompare(b))
  return [`period=${period}`, ...others.map(([k, v]) => `${k}=${v}`)].join(" ")
}
