import { isRuleName, type RuleName } from "./rules.js"

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
}

export const defaultEasgdSettings: EasgdSettings = {
  rule: "async-easgd",
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
  eamsgdMomentum: 0.99
}

export class EasgdSettingsError extends Error {
  readonly _tag = "EasgdSettingsError"
  constructor(
    readonly field: string,
    readonly detail: string
  ) {
    super(`deepspark setting ${field}: ${detail}`)
    this.name = "EasgdSettingsError"
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
  ["eamsgd_momentum", "eamsgdMomentum"]
]

export const settingNames = names.map(([n]) => n)

/** Builds settings from `snake_case → value` pairs (CLI flags or a settings file); validates each. */
export const makeEasgdSettings = (values: Readonly<Record<string, string | number | boolean>>): EasgdSettings => {
  const out: Record<string, unknown> = { ...defaultEasgdSettings }
  for (const [key, raw] of Object.entries(values)) {
    const entry = names.find(([n, f]) => n === key || f === key || n.replace(/_/g, "-") === key)
    if (!entry) throw new EasgdSettingsError(key, `unknown setting (known: ${settingNames.join(", ")})`)
    const [name, field] = entry
    if (field === "rule") {
      if (typeof raw !== "string" || !isRuleName(raw)) throw new EasgdSettingsError(name, `unknown rule ${JSON.stringify(raw)}`)
      out.rule = raw
    } else if (field === "adaptivePeriod") {
      out.adaptivePeriod = raw === true || raw === "true" || raw === 1 || raw === "1"
    } else {
      const v = typeof raw === "number" ? raw : Number(raw)
      if (!Number.isFinite(v)) throw new EasgdSettingsError(name, `expected a number, got ${JSON.stringify(raw)}`)
      out[field] = v
    }
  }
  const s = out as unknown as EasgdSettings
  if (!Number.isInteger(s.period) || s.period < 1) throw new EasgdSettingsError("period", `must be an integer ≥ 1, got ${s.period}`)
  if (!(s.movingRate > 0 && s.movingRate <= 1)) throw new EasgdSettingsError("moving_rate", `must be in (0, 1], got ${s.movingRate}`)
  if (!(s.serverFactor > 0)) throw new EasgdSettingsError("server_factor", `must be > 0, got ${s.serverFactor}`)
  if (s.movingRate * s.serverFactor > 1)
    throw new EasgdSettingsError("server_factor", `moving_rate × server_factor must be ≤ 1, got ${s.movingRate * s.serverFactor}`)
  for (const f of ["decayStep", "factorDecayStep"] as const)
    if (!(s[f] >= 0)) throw new EasgdSettingsError(f, `must be ≥ 0, got ${s[f]}`)
  return s
}

/**
 * The center's rate schedule (DeepSpark): α decays by decay_rate every decay_step·N/period exchanges
 * down to decay_limit; server_factor likewise with the factor_* settings. N = number of workers.
 */
export const rateSchedule = (s: EasgdSettings, workers: number) => {
  const everyExchanges = (step: number) => (step > 0 ? Math.max(1, Math.round((step * workers) / s.period)) : 0)
  const alphaEvery = everyExchanges(s.decayStep)
  const factorEvery = everyExchanges(s.factorDecayStep)
  return {
    /** α after `exchanges` exchanges. */
    alpha(exchanges: number): number {
      if (!alphaEvery) return s.movingRate
      const a = s.movingRate * Math.pow(s.decayRate, Math.floor(exchanges / alphaEvery))
      return Math.max(a, s.decayLimit)
    },
    serverFactor(exchanges: number): number {
      if (!factorEvery) return s.serverFactor
      const f = s.serverFactor * Math.pow(s.factorDecayRate, Math.floor(exchanges / factorEvery))
      return Math.max(f, s.factorDecayLimit)
    },
    /** α_s, the rate the center moves by. */
    centerRate(exchanges: number): number {
      return Math.min(1, this.alpha(exchanges) * this.serverFactor(exchanges))
    }
  }
}
