/**
 * DeepSpark's EASGD settings as command-line options (`--rule`, `--period`, `--moving-rate`, …), named as
 * settingNames spells them, and the settings they give.
 */
import type { OptionSpec, OptionValue, ParsedOptions } from "./argv.js"
import { optionKey } from "./argv.js"
import { ruleNames } from "../easgd/rule-registry.js"
import { MANY_WORKERS, settingNames } from "../easgd/settings.js"

/** `--rule`, saying which rule a command picks when none is named (`defaultText`). */
export const ruleOption = (defaultText: string): OptionSpec => ({
  name: "rule",
  type: "string",
  value: "NAME",
  description: `update rule: ${ruleNames.join(" | ")} (default ${defaultText}; async-easgd when an elastic setting such as --moving-rate is given without one)`
})

export const easgdSettingOptions: ReadonlyArray<OptionSpec> = [
  ruleOption(`${ruleNames[0]}, sync-sgd from ${MANY_WORKERS} workers`),
  { name: "period", type: "number", value: "τ", description: "local iterations between exchanges (default: the rule's, downpour 5, the elastic rules 50)" },
  { name: "moving-rate", type: "number", value: "α", description: "elastic rate of async-easgd, easgd, eamsgd, sync-easgd (default 0.1)" },
  { name: "decay-rate", type: "number", value: "R", description: "α decay factor" },
  { name: "decay-step", type: "number", value: "N", description: "α decays every decay_step·workers/period exchanges" },
  { name: "decay-limit", type: "number", value: "A", description: "α never decays below this" },
  { name: "server-factor", type: "number", value: "F", description: "center rate α_s = moving_rate × server_factor" },
  { name: "factor-decay-rate", type: "number", value: "R", description: "server_factor decay factor" },
  { name: "factor-decay-step", type: "number", value: "N", description: "server_factor decay step" },
  { name: "factor-decay-limit", type: "number", value: "F", description: "server_factor floor" },
  { name: "adaptive-period", type: "boolean", description: "exchange when the loss since the last exchange exceeds the first period's" },
  { name: "eamsgd-momentum", type: "number", value: "δ", description: "EAMSGD's Nesterov momentum (default 0.99)" },
  { name: "outer-lr", type: "number", value: "LR", description: "diloco / async-diloco: outer learning rate (default 0.7)" },
  { name: "outer-momentum", type: "number", value: "μ", description: "diloco / async-diloco: outer Nesterov momentum (default 0.9; async-diloco from 4 workers 0.5)" },
  { name: "staleness-aware", type: "boolean", description: "async-easgd, easgd, eamsgd, downpour: center rate ÷ (1 + staleness)" },
  { name: "lr-scaling", type: "string", value: "none|linear", description: "linear: each worker's solver lr × N (Goyal et al. 2017)" },
  { name: "lr-warmup", type: "number", value: "ITERS", description: "with lr-scaling linear: ramp from × 1 to × N over this many local iterations" },
  { name: "progress-warmup", type: "number", value: "ITERS", description: "downpour: add the workers' Δ × 1/N at first, ramped to × 1 over this many local iterations per worker" },
  { name: "progress-gain", type: "number", value: "G", description: "downpour: the center adds at most G workers' worth of progress per round (each Δ × min(1, G/N)); beyond G+1 workers the bound shrinks as G(G+1)/N, down to their mean; 0: no bound" },
  { name: "overlap-exchange", type: "boolean", description: "downpour, async-diloco: train on while an exchange is in flight; apply x̃ + (x_i − x_sent) when it returns" }
]

/** The settings given on the command line, by snake_case setting name (for makeEasgdSettings). */
export const easgdSettingValues = (
  parsed: ParsedOptions | ReadonlyMap<string, OptionValue>
): Record<string, string | number | boolean> => {
  const options = "options" in parsed ? parsed.options : parsed
  const values: Record<string, string | number | boolean> = {}
  for (const name of settingNames) {
    const v = options.get(optionKey(name))
    if (v !== undefined) values[name] = v as string | number | boolean
  }
  return values
}
