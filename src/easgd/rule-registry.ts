import { asyncDiloco } from "./rules/async-diloco.js"
import { asyncEasgd } from "./rules/async-easgd.js"
import { diloco } from "./rules/diloco.js"
import { downpour } from "./rules/downpour.js"
import { eamsgd } from "./rules/eamsgd.js"
import { easgd } from "./rules/easgd.js"
import { single } from "./rules/single.js"
import { syncAvg } from "./rules/sync-avg.js"
import { syncEasgd } from "./rules/sync-easgd.js"
import { syncSgd } from "./rules/sync-sgd.js"
import type { UpdateRule } from "./update-rule.js"

/**
 * Every update rule by name: the one place the runtime, the simulator, the CLI and the benchmarks look
 * a rule up. The first is the default.
 */
export const updateRules = [downpour, asyncEasgd, easgd, eamsgd, syncEasgd, syncAvg, syncSgd, single, diloco, asyncDiloco] as const

export type RuleName = (typeof updateRules)[number]["name"]

/** All rule names, the default first. */
export const ruleNames: ReadonlyArray<RuleName> = updateRules.map((r) => r.name)

export const isRuleName = (s: string): s is RuleName => (ruleNames as ReadonlyArray<string>).includes(s)

/** The rule called `name`; throws naming the known rules when there is none. */
export const ruleByName = (name: string): UpdateRule<RuleName> => {
  const rule = updateRules.find((r) => r.name === name)
  if (!rule) throw new RangeError(`unknown update rule ${JSON.stringify(name)} (known: ${ruleNames.join(", ")})`)
  return rule
}
