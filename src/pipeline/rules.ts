import { Config, Effect } from "effect"
import { defaultEasgdSettings, makeEasgdSettings, type EasgdSettings } from "../easgd/settings.js"
import { TrainingSettingsError } from "../driver/training-errors.js"

/**
 * The update rules of a distributed run as values, by their public names and DeepSpark's settings
 * (see ../easgd): `Rules.asyncEasgd({ period: 10, movingRate: 0.2 })` is the EasgdSettings the driver
 * takes. `Rules.config` reads the same settings from Effect's Config (DEEPSPARK_RULE, DEEPSPARK_PERIOD,
 * DEEPSPARK_MOVING_RATE, … from the environment by default).
 */
export interface RuleOptions {
  readonly period?: number
  readonly movingRate?: number
  readonly decayRate?: number
  readonly decayStep?: number
  readonly decayLimit?: number
  readonly serverFactor?: number
  readonly adaptivePeriod?: boolean
  readonly momentum?: number
}

const snake: Record<keyof RuleOptions, string> = {
  period: "period",
  movingRate: "moving_rate",
  decayRate: "decay_rate",
  decayStep: "decay_step",
  decayLimit: "decay_limit",
  serverFactor: "server_factor",
  adaptivePeriod: "adaptive_period",
  momentum: "eamsgd_momentum"
}

const rule =
  (name: EasgdSettings["rule"]) =>
  (options: RuleOptions = {}): EasgdSettings => {
    const values: Record<string, string | number | boolean> = { rule: name }
    for (const [k, v] of Object.entries(options)) if (v !== undefined) values[snake[k as keyof RuleOptions] ?? k] = v
    return makeEasgdSettings(values)
  }

/** Settings from Effect Config, DeepSpark's names under DEEPSPARK_ (e.g. DEEPSPARK_MOVING_RATE). */
const settingsConfig: Config.Config<Record<string, string | number | boolean>> = Config.all({
  rule: Config.string("RULE").pipe(Config.withDefault(defaultEasgdSettings.rule)),
  period: Config.integer("PERIOD").pipe(Config.withDefault(defaultEasgdSettings.period)),
  moving_rate: Config.number("MOVING_RATE").pipe(Config.withDefault(defaultEasgdSettings.movingRate)),
  decay_rate: Config.number("DECAY_RATE").pipe(Config.withDefault(defaultEasgdSettings.decayRate)),
  decay_step: Config.integer("DECAY_STEP").pipe(Config.withDefault(defaultEasgdSettings.decayStep)),
  decay_limit: Config.number("DECAY_LIMIT").pipe(Config.withDefault(defaultEasgdSettings.decayLimit)),
  server_factor: Config.number("SERVER_FACTOR").pipe(Config.withDefault(defaultEasgdSettings.serverFactor)),
  adaptive_period: Config.boolean("ADAPTIVE_PERIOD").pipe(Config.withDefault(defaultEasgdSettings.adaptivePeriod))
}).pipe(Config.nested("DEEPSPARK"))

export const Rules = {
  asyncEasgd: rule("async-easgd"),
  easgd: rule("easgd"),
  eamsgd: rule("eamsgd"),
  syncEasgd: rule("sync-easgd"),
  syncAverage: rule("sync-avg"),
  downpour: rule("downpour"),
  single: rule("single"),
  /** The settings from Effect Config; a bad value is a TrainingSettingsError naming the setting. */
  config: Effect.gen(function* () {
    const values = yield* settingsConfig.pipe(
      Effect.mapError((e) => new TrainingSettingsError({ field: "DEEPSPARK_*", message: `deepspark settings from the configuration: ${e.toString()}` }))
    )
    return yield* Effect.try({
      try: () => makeEasgdSettings(values),
      catch: (e) => new TrainingSettingsError({ field: (e as { field?: string }).field ?? "DEEPSPARK_*", message: (e as Error).message })
    })
  })
}
