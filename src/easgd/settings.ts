import { Data } from "effect"
import { isRuleName, ruleByName, ruleNames, type RuleName } from "./rule-registry.js"

/**
 * DeepSpark's distributed-training settings, with its own names (period, moving_rate, …), plus
 * deepspark's additions. Defaults follow DeepSpark's shipped example (period 50, moving_rate 0.1).
 */
export interface EasgdSettings {
  readonly rule: RuleName
  /** τ: local iterations between exchanges. */
  readonly period: number
  /** α: the worker's elastic rate and the base of the center's rate. */
  readonly movingRate: number
  /** α ← max(α·decay_rate, decay_limit) every decay_step·N/period exchanges (0 = never). */
  readonly decayRate: number
  readonly decayStep: number
  readonly decayLimit: number
  /** α_s = moving_rate × server_factor. */
  readonly serverFactor: number
  readonly factorDecayRate: number
  readonly factorDecayStep: number
  readonly factorDecayLimit: number
  /** Exchange when the loss summed since the last exchange exceeds the first period's sum. */
  readonly adaptivePeriod: boolean
  /** EAMSGD's Nesterov momentum δ. */
  readonly eamsgdMomentum: number
  /** DiLoCo's outer learning rate (diloco, async-diloco). */
  readonly outerLr: number
  /** DiLoCo's outer Nesterov momentum μ (diloco, async-diloco). */
  readonly outerMomentum: number
  /** Divide the center's rate by 1 + staleness (async-easgd, easgd, eamsgd, downpour). */
  readonly stalenessAware: boolean
  /**
   * Learning-rate scaling for N workers (Goyal et al. 2017): "none", or "linear" — each worker's solver
   * lr × N, ramped linearly from × 1 over the first lr_warmup local iterations.
   */
  readonly lrScaling: "none" | "linear"
  readonly lrWarmup: number
  /**
   * downpour: the center adds the workers' progress Δ × 1/N at first (their mean, as stable as one
   * solver) and ramps to × 1 (their sum) over this many local iterations per worker (0 = sum from the start).
   */
  readonly progressWarmup: number
  /**
   * downpour: the most the center's step may be, in workers' worth of progress: each Δ is added × min(1,
   * G/N) once warmed up, so N workers' summed steps never exceed G solvers' (measured on LeNet at Caffe's
   * lr: the sum of 3 or 4 workers diverges, 2 trains). 0: no bound.
   */
  readonly progressGain: number
  /**
   * downpour, async-diloco: the worker trains on while its exchange is in flight and applies the reply
   * between two iterations as x_i ← x̃ + (x_i − x_sent), so it never waits for the center.
   */
  readonly overlapExchange: boolean
}

/**
 * The default rule is downpour (τ 5, a 300-iteration warm-up from the workers' mean, at most 2 workers'
 * worth of progress per step: its own defaults, see rules/downpour.ts), the fastest to Caffe's accuracy
 * measured on MNIST with 2 workers (README); from MANY_WORKERS workers on it is sync-sgd
 * (defaultRuleFor). The other fields are DeepSpark's defaults for its elastic rules (period 50,
 * moving_rate 0.1); settings that only the elastic rules read, given without a rule, choose DeepSpark's
 * async EASGD (elasticOnlySettings).
 */
export const defaultEasgdSettings: EasgdSettings = {
  rule: "downpour",
  period: 50,
  movingRate: 0.1,
  decayRate: 1,
  decayStep: 0,
  decayLimit: 0,
  serverFactor: 1,
  factorDecayRate: 1,
  factorDecayStep: 0,
  factorDecayLimit: 0,
  adaptivePeriod: false,
  eamsgdMomentum: 0.99,
  outerLr: 0.7,
  outerMomentum: 0.9,
  stalenessAware: false,
  lrScaling: "none",
  lrWarmup: 0,
  progressWarmup: 0,
  progressGain: 0,
  overlapExchange: false
}

/** From this many workers on, a run that names no rule trains with sync-sgd (defaultRuleFor). */
export const MANY_WORKERS = 4

/**
 * The rule a run of `workers` workers gets when it names none: downpour up to 3 workers, sync-sgd from 4
 * — measured on MNIST (README, "Time to accuracy"): with 2 workers downpour reached 98.5 % sooner in wall
 * time; with 4 and 8, sync-sgd needed 0.29× and 0.14× the lone solver's iterations per worker, downpour's
 * bounded sum 0.5–0.7×. Unknown `workers`: downpour.
 */
export const defaultRuleFor = (workers: number | undefined): RuleName =>
  workers !== undefined && workers >= MANY_WORKERS ? "sync-sgd" : defaultEasgdSettings.rule

export class EasgdSettingsError extends Data.TaggedError("EasgdSettingsError")<{
  readonly field: string
  readonly detail: string
  readonly message: string
}> {
  constructor(field: string, detail: string) {
    super({ field, detail, message: `deepspark setting ${field}: ${detail}` })
  }
}

/** DeepSpark's snake_case names ↔ our fields. */
const names: ReadonlyArray<readonly [string, keyof EasgdSettings]> = [
  ["rule", "rule"],
  ["period", "period"],
  ["moving_rate", "movingRate"],
  ["decay_rate", "decayRate"],
  ["decay_step", "decayStep"],
  ["decay_limit", "decayLimit"],
  ["server_factor", "serverFactor"],
  ["factor_decay_rate", "factorDecayRate"],
  ["factor_decay_step", "factorDecayStep"],
  ["factor_decay_limit", "factorDecayLimit"],
  ["adaptive_period", "adaptivePeriod"],
  ["eamsgd_momentum", "eamsgdMomentum"],
  ["outer_lr", "outerLr"],
  ["outer_momentum", "outerMomentum"],
  ["staleness_aware", "stalenessAware"],
  ["lr_scaling", "lrScaling"],
  ["lr_warmup", "lrWarmup"],
  ["progress_warmup", "progressWarmup"],
  ["progress_gain", "progressGain"],
  ["overlap_exchange", "overlapExchange"]
]

export const settingNames = names.map(([n]) => n)

/**
 * The settings a rule reads, as a log shows them: "period 50, outer_lr 0.35, outer_momentum 0.5, …", and
 * the lr scaling where it is on (any rule may scale the workers' lr).
 */
export const describeRuleSettings = (s: EasgdSettings): string => {
  const read = ["period", ...ruleByName(s.rule).settings, ...(s.lrScaling === "linear" ? ["lr_scaling", "lr_warmup"] : [])]
  return read.map((n) => `${n} ${String(s[names.find(([name]) => name === n)![1]])}`).join(", ")
}

/**
 * Settings only DeepSpark's elastic rules read: a DeepSpark settings file or flags that give one of them
 * and no rule mean DeepSpark's async EASGD, not the default rule (which would ignore them).
 */
export const elasticOnlySettings: ReadonlyArray<keyof EasgdSettings> = [
  "movingRate",
  "decayRate",
  "decayStep",
  "decayLimit",
  "serverFactor",
  "factorDecayRate",
  "factorDecayStep",
  "factorDecayLimit"
]

const booleanValue = (name: string, raw: string | number | boolean): boolean => {
  if (raw === true || raw === "true" || raw === 1 || raw === "1") return true
  if (raw === false || raw === "false" || raw === 0 || raw === "0") return false
  throw new EasgdSettingsError(name, `expected true or false, got ${JSON.stringify(raw)}`)
}

/**
 * Builds settings from `snake_case → value` pairs (CLI flags or a settings file); validates each. The
 * chosen rule's own defaults (UpdateRule.defaults, and with `workers` its defaultsFor) apply under the
 * values given. Without a rule (and no elastic-only setting), `workers` picks it (defaultRuleFor).
 */
export const makeEasgdSettings = (values: Readonly<Record<string, string | number | boolean>>, options: { readonly workers?: number | undefined } = {}): EasgdSettings => {
  const given: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(values)) {
    const entry = names.find(([n, f]) => n === key || f === key || n.replace(/_/g, "-") === key)
    if (!entry) throw new EasgdSettingsError(key, `unknown setting (known: ${settingNames.join(", ")})`)
    const [name, field] = entry
    if (field === "rule") {
      if (typeof raw !== "string" || !isRuleName(raw)) throw new EasgdSettingsError(name, `unknown rule ${JSON.stringify(raw)} (known: ${ruleNames.join(", ")})`)
      given.rule = raw
    } else if (field === "adaptivePeriod" || field === "stalenessAware" || field === "overlapExchange") {
      given[field] = booleanValue(name, raw)
    } else if (field === "lrScaling") {
      if (raw !== "none" && raw !== "linear") throw new EasgdSettingsError(name, `must be "none" or "linear", got ${JSON.stringify(raw)}`)
      given.lrScaling = raw
    } else {
      const v = typeof raw === "number" ? raw : Number(raw)
      if (typeof raw === "boolean" || raw === "" || !Number.isFinite(v)) throw new EasgdSettingsError(name, `expected a number, got ${JSON.stringify(raw)}`)
      given[field] = v
    }
  }
  const elastic = elasticOnlySettings.some((f) => given[f] !== undefined)
  const rule = ruleByName((given.rule as RuleName | undefined) ?? (elastic ? "async-easgd" : defaultRuleFor(options.workers)))
  const forWorkers = options.workers !== undefined ? rule.defaultsFor?.(options.workers) : undefined
  const s = { ...defaultEasgdSettings, ...rule.defaults, ...forWorkers, ...given, rule: rule.name } as EasgdSettings
  if (!Number.isInteger(s.period) || s.period < 1) throw new EasgdSettingsError("period", `must be an integer ≥ 1, got ${s.period}`)
  if (!(s.movingRate > 0 && s.movingRate <= 1)) throw new EasgdSettingsError("moving_rate", `must be in (0, 1], got ${s.movingRate}`)
  if (!(s.serverFactor > 0)) throw new EasgdSettingsError("server_factor", `must be > 0, got ${s.serverFactor}`)
  if (s.movingRate * s.serverFactor > 1)
    throw new EasgdSettingsError("server_factor", `moving_rate × server_factor must be ≤ 1, got ${s.movingRate * s.serverFactor}`)
  for (const [f, n] of [["decayStep", "decay_step"], ["factorDecayStep", "factor_decay_step"]] as const)
    if (!(s[f] >= 0)) throw new EasgdSettingsError(n, `must be ≥ 0, got ${s[f]}`)
  if (!(s.eamsgdMomentum >= 0 && s.eamsgdMomentum < 1)) throw new EasgdSettingsError("eamsgd_momentum", `must be in [0, 1), got ${s.eamsgdMomentum}`)
  if (!(s.outerLr > 0)) throw new EasgdSettingsError("outer_lr", `must be > 0, got ${s.outerLr}`)
  if (!(s.outerMomentum >= 0 && s.outerMomentum < 1)) throw new EasgdSettingsError("outer_momentum", `must be in [0, 1), got ${s.outerMomentum}`)
  if (!Number.isInteger(s.lrWarmup) || s.lrWarmup < 0) throw new EasgdSettingsError("lr_warmup", `must be an integer ≥ 0 (local iterations), got ${s.lrWarmup}`)
  if (!Number.isInteger(s.progressWarmup) || s.progressWarmup < 0)
    throw new EasgdSettingsError("progress_warmup", `must be an integer ≥ 0 (local iterations), got ${s.progressWarmup}`)
  if (!(s.progressGain === 0 || s.progressGain >= 1))
    throw new EasgdSettingsError("progress_gain", `must be ≥ 1 (workers' worth of progress) or 0 (no bound), got ${s.progressGain}`)
  if (s.lrWarmup > 0 && s.lrScaling === "none") throw new EasgdSettingsError("lr_warmup", `ramps the scaled lr: give lr_scaling "linear" too`)
  return s
}

/**
 * The factor on a worker's solver lr at its local iteration `iter` (Goyal et al. 2017): N once warmed
 * up, ramped linearly from 1 over the first lr_warmup iterations; 1 without lr_scaling.
 */
export const lrScaleAt = (s: Pick<EasgdSettings, "lrScaling" | "lrWarmup">, workers: number, iter: number): number => {
  if (s.lrScaling === "none" || workers <= 1) return 1
  if (s.lrWarmup > 0 && iter < s.lrWarmup) return 1 + ((workers - 1) * iter) / s.lrWarmup
  return workers
}

export { progressScaleAt, rateSchedule } from "./rate-schedule.js"
