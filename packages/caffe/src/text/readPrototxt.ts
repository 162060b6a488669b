import * as fs from "node:fs"
import { Effect } from "effect"
import type { NetParameter, SolverParameter } from "../schema/types.js"
import { UpgradeError } from "../upgrade/UpgradeError.js"
import type { UpgradeLogger } from "../upgrade/UpgradeOptions.js"
import { upgradeNetAsNeeded } from "../upgrade/upgradeNet.js"
import { upgradeSolverAsNeeded } from "../upgrade/upgradeSolver.js"
import { parsePrototxt } from "./prototxt.js"
import { PrototxtError } from "./PrototxtError.js"

export interface ReadPrototxtOptions {
  /** Receives Caffe's upgrade log lines. */
  readonly log?: UpgradeLogger
}

const readText = (file: string): string => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    throw new PrototxtError({ file, line: 0, column: 0, path: "", reason: `cannot read file: ${reason}` })
  }
}

/** A snapshot_prefix names a directory if it ends in "/" or is an existing directory (as Caffe checks). */
const isDirectory = (prefix: string): boolean => {
  if (prefix.endsWith("/")) return true
  try {
    return fs.statSync(prefix).isDirectory()
  } catch {
    return false
  }
}

/** Caffe's ReadNetParamsFromTextFileOrDie: parse a net prototxt and upgrade it. Throws the typed errors. */
export const readNetPrototxtSync = (file: string, options: ReadPrototxtOptions = {}): NetParameter =>
  upgradeNetAsNeeded(parsePrototxt("NetParameter", readText(file), { file }), {
    file,
    ...(options.log ? { log: options.log } : {})
  })

/** Caffe's ReadSolverParamsFromTextFileOrDie: parse a solver prototxt and upgrade it (inline nets too). */
export const readSolverPrototxtSync = (file: string, options: ReadPrototxtOptions = {}): SolverParameter =>
  upgradeSolverAsNeeded(parsePrototxt("SolverParameter", readText(file), { file }), {
    file,
    isDirectory,
    ...(options.log ? { log: options.log } : {})
  })

const asEffect = <A>(run: () => A): Effect.Effect<A, PrototxtError | UpgradeError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(run())
    } catch (e) {
      if (e instanceof PrototxtError || e instanceof UpgradeError) return Effect.fail(e)
      throw e
    }
  })

export const readNetPrototxt = (
  file: string,
  options: ReadPrototxtOptions = {}
): Effect.Effect<NetParameter, PrototxtError | UpgradeError> => asEffect(() => readNetPrototxtSync(file, options))

export const readSolverPrototxt = (
  file: string,
  options: ReadPrototxtOptions = {}
): Effect.Effect<SolverParameter, PrototxtError | UpgradeError> => asEffect(() => readSolverPrototxtSync(file, options))
