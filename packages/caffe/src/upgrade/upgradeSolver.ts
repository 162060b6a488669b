import * as path from "node:path"
import { Effect } from "effect"
import type { PlainMessage } from "../schema/descriptor.js"
import type { NetParameter, SolverParameter } from "../schema/types.js"
import { list } from "./plain.js"
import { upgradeNetAsNeeded } from "./upgradeNet.js"
import { UpgradeError } from "./UpgradeError.js"
import { upgradeContext, type UpgradeContext, type UpgradeOptions } from "./UpgradeOptions.js"

const SOLVER_TYPE_NAMES: Readonly<Record<string, string>> = {
  SGD: "SGD",
  NESTEROV: "Nesterov",
  ADAGRAD: "AdaGrad",
  RMSPROP: "RMSProp",
  ADADELTA: "AdaDelta",
  ADAM: "Adam"
}

/** Caffe's UpgradeSolverType: deprecated `solver_type` enum → `type` string; both set is an error. */
export const upgradeSolverType = (solver: PlainMessage, ctx: UpgradeContext): PlainMessage => {
  if (solver["solver_type"] === undefined) return solver
  ctx.log("info", `Attempting to upgrade input file specified using deprecated 'solver_type' field (enum)': ${ctx.file}`)
  if (solver["type"] !== undefined) {
    throw new UpgradeError({
      file: ctx.file,
      path: "solver_type",
      reason: "Failed to upgrade solver: old solver_type field (enum) and new type field (string) cannot be both specified in solver proto text."
    })
  }
  const type = SOLVER_TYPE_NAMES[solver["solver_type"] as string]
  if (type === undefined) {
    throw new UpgradeError({ file: ctx.file, path: "solver_type", reason: `Unknown SolverParameter solver_type: ${String(solver["solver_type"])}` })
  }
  const out: PlainMessage = { ...solver, type }
  delete out["solver_type"]
  ctx.log("info", "Successfully upgraded file specified using deprecated 'solver_type' field (enum) to 'type' field (string).")
  ctx.log("warning", "Note that future Caffe releases will only support 'type' field (string) for a solver's type.")
  return out
}

export interface SnapshotPrefixOptions {
  /**
   * Whether a prefix names a directory. Caffe asks the file system; by default a prefix ending in "/"
   * counts as a directory (pure). readSolverPrototxt also asks the file system.
   */
  readonly isDirectory?: (prefix: string) => boolean
}

/**
 * Caffe's UpgradeSnapshotPrefixProperty: an unset `snapshot_prefix` becomes the solver file's path
 * without its extension; a prefix naming a directory becomes `<dir>/<solver file stem>`.
 */
export const upgradeSnapshotPrefix = (
  solver: PlainMessage,
  solverFile: string,
  ctx: UpgradeContext,
  options: SnapshotPrefixOptions = {}
): PlainMessage => {
  const prefix = solver["snapshot_prefix"] as string | undefined
  const ext = path.extname(solverFile)
  if (prefix === undefined) {
    const snapshot_prefix = solverFile.slice(0, solverFile.length - ext.length)
    ctx.log("info", `snapshot_prefix was not specified and is set to ${snapshot_prefix}`)
    return { ...solver, snapshot_prefix }
  }
  const isDirectory = options.isDirectory ?? ((p: string) => p.endsWith("/"))
  if (prefix !== "" && isDirectory(prefix)) {
    const stem = path.basename(solverFile, ext)
    const snapshot_prefix = prefix.endsWith("/") ? `${prefix}${stem}` : `${prefix}/${stem}`
    ctx.log("info", `snapshot_prefix is a directory and is replaced to ${snapshot_prefix}`)
    return { ...solver, snapshot_prefix }
  }
  return solver
}

export interface SolverUpgradeOptions extends UpgradeOptions, SnapshotPrefixOptions {}

/**
 * What Caffe does after parsing a solver file (UpgradeSolverAsNeeded + UpgradeSnapshotPrefixProperty),
 * plus deepspark's own step: inline nets (`net_param`, `train_net_param`, `test_net_param`) go through
 * upgradeNetAsNeeded too, so a solver with a V1 inline net (lenet_consolidated_solver) is usable. The
 * snapshot_prefix step needs `options.file` (the solver's path) and is skipped without it.
 */
export const upgradeSolverAsNeeded = (input: SolverParameter, options: SolverUpgradeOptions = {}): SolverParameter => {
  const ctx = upgradeContext(options)
  let solver = upgradeSolverType(input as PlainMessage, ctx)
  const netOptions = (field: string): UpgradeOptions => ({ file: `${ctx.file} (${field})`, log: ctx.log })
  for (const field of ["net_param", "train_net_param"]) {
    const net = solver[field] as NetParameter | undefined
    if (net !== undefined) solver = { ...solver, [field]: upgradeNetAsNeeded(net, netOptions(field)) }
  }
  const testNets = list<NetParameter>(solver, "test_net_param")
  if (testNets.length > 0) {
    solver = {
      ...solver,
      test_net_param: testNets.map((net, i) => upgradeNetAsNeeded(net, netOptions(`test_net_param[${i}]`)))
    }
  }
  if (options.file !== undefined) solver = upgradeSnapshotPrefix(solver, options.file, ctx, options)
  return solver as SolverParameter
}

/** upgradeSolverAsNeeded as an Effect failing with UpgradeError. */
export const upgradeSolverAsNeededEffect = (
  solver: SolverParameter,
  options: SolverUpgradeOptions = {}
): Effect.Effect<SolverParameter, UpgradeError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(upgradeSolverAsNeeded(solver, options))
    } catch (e) {
      if (e instanceof UpgradeError) return Effect.fail(e)
      throw e
    }
  })
