import { parsePrototxtWith, schemaFromDescriptors, type FieldDescriptor } from "@deepspark/caffe"
import * as fs from "node:fs"
import { makeEasgdSettings, type EasgdSettings } from "./settings.js"

/**
 * DeepSpark's settings as a prototxt-style file (`deepspark.prototxt`), with DeepSpark's names:
 *
 *   rule: "async-easgd"   period: 50   moving_rate: 0.1
 *   decay_rate: 0.9  decay_step: 1000  decay_limit: 0.01
 *   server_factor: 1  factor_decay_rate: 1  factor_decay_step: 0  factor_decay_limit: 0
 *   adaptive_period: false   eamsgd_momentum: 0.99
 *   outer_lr: 0.7   outer_momentum: 0.9   staleness_aware: false
 *   lr_scaling: "linear"   lr_warmup: 500   progress_warmup: 300
 *
 * Parsed by the same text-format parser as Caffe's files, so errors name file:line:column.
 */
const f = (name: string, number: number, scalar: "string" | "double" | "int32" | "bool"): FieldDescriptor => ({
  name,
  number,
  type: { kind: "scalar", scalar },
  repeated: false,
  packed: false
})

const schema = schemaFromDescriptors(
  [
    {
      name: "DeepSparkParameter",
      fields: [
        f("rule", 1, "string"),
        f("period", 2, "int32"),
        f("moving_rate", 3, "double"),
        f("decay_rate", 4, "double"),
        f("decay_step", 5, "int32"),
        f("decay_limit", 6, "double"),
        f("server_factor", 7, "double"),
        f("factor_decay_rate", 8, "double"),
        f("factor_decay_step", 9, "int32"),
        f("factor_decay_limit", 10, "double"),
        f("adaptive_period", 11, "bool"),
        f("eamsgd_momentum", 12, "double"),
        f("outer_lr", 13, "double"),
        f("outer_momentum", 14, "double"),
        f("staleness_aware", 15, "bool"),
        f("lr_scaling", 16, "string"),
        f("lr_warmup", 17, "int32"),
        f("progress_warmup", 18, "int32"),
        f("progress_gain", 19, "double"),
        f("overlap_exchange", 20, "bool")
      ]
    }
  ],
  []
)

export const parseEasgdSettingsText = (text: string, file = "<settings>"): Record<string, string | number | boolean> =>
  parsePrototxtWith(schema, "DeepSparkParameter", text, { file }) as Record<string, string | number | boolean>

/** Reads a settings file; `overrides` (e.g. CLI flags) win over the file; `workers` picks a rule none names (defaultRuleFor). */
export const readEasgdSettingsFile = (
  file: string | undefined,
  overrides: Record<string, string | number | boolean> = {},
  workers?: number
): EasgdSettings => {
  const fromFile = file ? parseEasgdSettingsText(fs.readFileSync(file, "utf8"), file) : {}
  try {
    return makeEasgdSettings({ ...fromFile, ...overrides }, { workers })
  } catch (e) {
    if (file && e instanceof Error) e.message = `${file}: ${e.message}`
    throw e
  }
}
