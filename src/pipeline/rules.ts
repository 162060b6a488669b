import { Config, Effect, Option } from "effect"
import { isRuleName, ruleNames, type RuleName } from "../easgd/rule-registry.js"
import { EasgdSettingsError, makeEasgdSettings, settingNames, type EasgdSettings } from "../easgd/settings.js"
import { TrainingSettingsError } from "../driver/training-errors.js"

/**
 * The update rules of a distributed run as values, by their public names and DeepSpark's settings
 * (see ../easgd): `Rules.asyncEasgd({ period: 10, movingRate: 0.2 })` is a `RuleChoice`, plain data
 * checked when a run starts — a bad setting is then a `TrainingSettingsError` naming it, in the run's
 * error channel, not an exception where the value is written. `Rules.config` reads the same settings
 * from Effect's Config (DEEPSPARK_RULE, DEEPSPARK_PERIOD, DEEPSPARK_MOVING_RATE, DEEPSPARK_OUTER_LR, …
 * from the environment by default); `Rules.settings` checks any of them.
 */
export type RuleOptions = Partial<Omit<EasgdSettings, "rule">> & {
  /** EAMSGD's local Nesterov momentum (DeepSpark's eamsgd_momentum). */
  readonly momentum?: number
}

export interface RuleChoice {
  readonly _tag: "RuleChoice"
  readonly rule: RuleName
  readonly options: RuleOptions
}

const rule =
  (name: RuleName) =>
  (options: RuleOptions = {}): RuleChoice => ({ _tag: "RuleChoice", rule: name, options })

const settingsError = (e: unknown) =>
  e instanceof EasgdSettingsError
    ? new TrainingSettingsError({ field: e.field, message: e.message })
    : new TrainingSettingsError({ field: "rule", message: e instanceof Error ? e.message : String(e) })

/**
 * The checked settings of a rule choice (or of settings built elsewhere: their rule must exist). With
 * `workers`, a choice gets its rule's defaults for that many (async-diloco's outer momentum), and no
 * choice at all is the CLI's default rule for them (downpour up to 3 workers, sync-sgd from 4).
 */
const settings = (choice: RuleChoice | EasgdSettings | undefined, workers?: number): Effect.Effect<EasgdSettings, TrainingSettingsError> =>
  Effect.try({
    try: () => {
      if (choice === undefined) return makeEasgdSettings({}, { workers })
      if (!("_tag" in choice)) {
        if (!isRuleName(choice.rule)) throw new EasgdSettingsError("rule", `unknown rule ${JSON.stringify(choice.rule)} (known: ${ruleNames.join(", ")})`)
        return choice
      }
      const { momentum, ...rest } = choice.options
      const values: Record<string, string | number | boolean> = { rule: choice.rule }
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) values[k] = v as string | number | boolean
      if (momentum !== undefined) values["eamsgd_momentum"] = momentum
      return makeEasgdSettings(values, { workers })
    },
    catch: settingsError
  })

/** Every DeepSpark setting from Effect Config, under DEEPSPARK_ in upper case (DEEPSPARK_MOVING_RATE); unset ones keep the rule's defaults. */
const settingsConfig: Config.Config<Record<string, string>> = Config.all(
  Object.fromEntries(settingNames.map((name) => [name, Config.option(Config.string(name.toUpperCase()))]))
).pipe(
  Config.map((o) => Object.fromEntries(Object.entries(o).flatMap(([k, v]) => (Option.isSome(v) ? [[k, v.value]] : [])))),
  Config.nested("DEEPSPARK")
)

const configFor = (workers: number | undefined): Effect.Effect<EasgdSettings, TrainingSettingsError> =>
  Effect.gen(function* () {
    const values = yield* settingsConfig.pipe(
      Effect.mapError((e) => new TrainingSettingsError({ field: "DEEPSPARK_*", message: `deepspark settings from the configuration: ${e.toString()}` }))
    )
    return yield* Effect.try({ try: () => makeEasgdSettings(values, { workers }), catch: settingsError })
  })

export const Rules = {
  asyncEasgd: rule("async-easgd"),
  easgd: rule("easgd"),
  eamsgd: rule("eamsgd"),
  syncEasgd: rule("sync-easgd"),
  syncAverage: rule("sync-avg"),
  downpour: rule("downpour"),
  single: rule("single"),
  diloco: rule("diloco"),
  asyncDiloco: rule("async-diloco"),
  settings,
  /** The settings from Effect Config; a bad value is a TrainingSettingsError naming the setting. */
  config: configFor(undefined),
  /** The settings from Effect Config for a run of `workers` (its default rule and the rule's defaults for that many). */
  configFor
}
