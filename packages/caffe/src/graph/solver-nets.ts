import * as path from "node:path"
import type { NetParameter, NetState, Phase, SolverParameter } from "../schema/types.js"
import { SolverNetsError } from "./errors.js"
import { mergeNetState } from "./net-state.js"

/** One net a solver trains or tests, with the NetState it runs in. */
export interface SolverNet {
  readonly role: "train" | "test"
  /** Index among the test nets (0 for the train net). */
  readonly index: number
  /** Where it came from, as Caffe logs it: "train_net_param", "net file: <path>", "test_net_param", … */
  readonly source: string
  /** The file it was read from (resolved from the working directory), if any. */
  readonly file?: string
  /** The net with `state` replaced by the merged NetState (build its graph with buildNetGraph). */
  readonly net: NetParameter
  readonly state: NetState
  /** test_iter for a test net. */
  readonly testIter?: number
}

export interface SolverNets {
  readonly train: SolverNet
  readonly test: ReadonlyArray<SolverNet>
}

export interface SolverNetsOptions {
  /** Reads (and upgrades) a net prototxt; called with the path resolved from `cwd`. */
  readonly readNet: (file: string) => NetParameter
  /** Caffe resolves net paths from the process's working directory. Default: process.cwd(). */
  readonly cwd?: string
}

const withState = (net: NetParameter, phase: Phase, override: NetState | undefined): { net: NetParameter; state: NetState } => {
  // Solver default phase, then the net's own state, then train_state / test_state[i].
  const state = mergeNetState({ phase }, net.state, override)
  return { net: { ...net, state }, state }
}

/**
 * The train net and test nets of a solver, as Solver::InitTrainNet / InitTestNets pick them: exactly
 * one of train_net_param / train_net / net_param / net for training; test nets in the order
 * test_net_param…, test_net…, then one copy of net_param / net per remaining test_iter. The solver is
 * expected already upgraded (readSolverPrototxt).
 */
export const resolveSolverNets = (solver: SolverParameter, options: SolverNetsOptions): SolverNets => {
  const cwd = options.cwd ?? process.cwd()
  const read = (file: string): { net: NetParameter; file: string } => {
    const resolved = path.resolve(cwd, file)
    return { net: options.readNet(resolved), file: resolved }
  }
  const trainFields = (["train_net_param", "train_net", "net_param", "net"] as const).filter((f) => solver[f] !== undefined)
  if (trainFields.length === 0) {
    throw new SolverNetsError({ field: "net", reason: "must specify a train net using one of these fields: net, net_param, train_net, train_net_param" })
  }
  if (trainFields.length > 1) {
    throw new SolverNetsError({
      field: trainFields.join(", "),
      reason: "must not contain more than one of these fields specifying a train net: net, net_param, train_net, train_net_param"
    })
  }

  const trainField = trainFields[0]!
  let trainSource: { net: NetParameter; file?: string; source: string }
  if (trainField === "train_net_param" || trainField === "net_param") {
    trainSource = { net: solver[trainField]!, source: trainField }
  } else {
    const { net, file } = read(solver[trainField]!)
    trainSource = { net, file, source: `${trainField === "net" ? "net" : "train_net"} file: ${solver[trainField]}` }
  }
  const trainState = withState(trainSource.net, "TRAIN", solver.train_state)
  const train: SolverNet = {
    role: "train",
    index: 0,
    source: trainSource.source,
    ...(trainSource.file !== undefined ? { file: trainSource.file } : {}),
    ...trainState
  }

  const testNetParams = solver.test_net_param ?? []
  const testNetFiles = solver.test_net ?? []
  const testIter = solver.test_iter ?? []
  const generic = solver.net_param !== undefined || solver.net !== undefined
  const specific = testNetParams.length + testNetFiles.length
  if (generic ? testIter.length < specific : testIter.length !== specific) {
    throw new SolverNetsError({
      field: "test_iter",
      reason: `test_iter must be specified for each test network (${testIter.length} test_iter for ${specific} test_net/test_net_param)`
    })
  }
  const instances = generic ? testIter.length : specific
  const testStates = solver.test_state ?? []
  if (testStates.length > 0 && testStates.length !== instances) {
    throw new SolverNetsError({
      field: "test_state",
      reason: `test_state must be unspecified or specified once per test net (${testStates.length} test_state for ${instances} test nets)`
    })
  }
  if (instances > 0 && !((solver.test_interval ?? 0) > 0)) {
    throw new SolverNetsError({ field: "test_interval", reason: `must be greater than 0 when there are test nets (${instances})` })
  }

  const sources: Array<{ net: NetParameter; file?: string; source: string }> = []
  for (const net of testNetParams) sources.push({ net, source: "test_net_param" })
  for (const f of testNetFiles) sources.push({ ...read(f), source: `test_net file: ${f}` })
  const remaining = testIter.length - sources.length
  for (let i = 0; i < remaining && generic; i++) {
    if (solver.net_param !== undefined) sources.push({ net: solver.net_param, source: "net_param" })
    else sources.push({ ...read(solver.net!), source: `net file: ${solver.net}` })
  }
  const test = sources.map(
    (s, i): SolverNet => ({
      role: "test",
      index: i,
      source: s.source,
      ...(s.file !== undefined ? { file: s.file } : {}),
      ...withState(s.net, "TEST", testStates[i]),
      testIter: testIter[i]!
    })
  )
  return { train, test }
}
