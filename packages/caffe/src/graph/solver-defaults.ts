import { messageType } from "../schema/caffe.js"
import { fieldDefault } from "../schema/defaults.js"
import type { SolverParameter } from "../schema/types.js"

/** Fields left absent by withSolverDefaults: nets (they are named, not defaulted) and deprecated ones. */
const NOT_DEFAULTED: ReadonlySet<string> = new Set(["train_net", "net", "snapshot_prefix", "solver_type"])

/**
 * The solver with every singular scalar / enum field present: absent ones take Caffe's default (the
 * declared one, else 0 / false / ""), so `type`, `momentum2`, `delta`, `test_initialization`,
 * `snapshot_format`, … show what Caffe will use. Net fields, repeated fields and nested messages are
 * kept as they are.
 */
export const withSolverDefaults = (solver: SolverParameter): SolverParameter => {
  const out: Record<string, unknown> = {}
  for (const f of messageType("SolverParameter").fields) {
    const value = (solver as Record<string, unknown>)[f.name]
    if (value !== undefined) out[f.name] = value
    else if (!f.repeated && f.type.kind !== "message" && f.deprecated !== true && !NOT_DEFAULTED.has(f.name)) {
      out[f.name] = fieldDefault("SolverParameter", f.name)
    }
  }
  return out as SolverParameter
}
