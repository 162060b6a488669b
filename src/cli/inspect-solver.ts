import { messageType, printPrototxt, shortestFloat32, type NetGraph, type SolverNet, type SolverParameter } from "@deepspark/caffe"
import { netJson, netTable, type NetJson } from "./inspect-net.js"

/** One of a solver's nets with its built graph, or why it could not be read (its file is missing). */
export type BuiltSolverNet =
  | { readonly net: SolverNet; readonly graph: NetGraph }
  | { readonly net: SolverNet; readonly error: string }

const floatFields = new Set(
  messageType("SolverParameter")
    .fields.filter((f) => f.type.kind === "scalar" && f.type.scalar === "float")
    .map((f) => f.name)
)

/** Float fields as the float32 Caffe computes with, written in their shortest form (0.999, not 0.9990000128746033). */
export const solverJson = (solver: SolverParameter): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(solver).map(([k, v]) => [
      k,
      floatFields.has(k) && typeof v === "number" ? shortestFloat32(v) : v
    ])
  )

export interface SolverNetJson extends NetJson {
  readonly role: "train" | "test"
  readonly index: number
  readonly source: string
  readonly testIter?: number
}

export interface MissingSolverNetJson {
  readonly role: "train" | "test"
  readonly index: number
  readonly source: string
  readonly testIter?: number
  readonly error: string
}

export const solverNetJson = (built: BuiltSolverNet): SolverNetJson | MissingSolverNetJson => {
  const n = built.net
  const head = { role: n.role, index: n.index, source: n.source, ...(n.testIter !== undefined ? { testIter: n.testIter } : {}) }
  return "error" in built ? { ...head, error: built.error } : { ...head, ...netJson(built.graph) }
}

/** The solver as prototxt (inline nets summarised; they are listed below it) then each net's table. */
export const solverText = (solver: SolverParameter, nets: ReadonlyArray<BuiltSolverNet>): string[] => {
  const shown: SolverParameter = { ...solver }
  delete shown.net_param
  delete shown.train_net_param
  delete shown.test_net_param
  const lines = ["# resolved solver (after upgrades, with Caffe's defaults)", ...printPrototxt("SolverParameter", shown).trimEnd().split("\n")]
  for (const field of ["net_param", "train_net_param"] as const) {
    if (solver[field] !== undefined) lines.push(`${field} { ... }  # inline net "${solver[field]!.name ?? ""}", below`)
  }
  for (const t of solver.test_net_param ?? []) lines.push(`test_net_param { ... }  # inline net "${t.name ?? ""}", below`)
  for (const built of nets) {
    const n = built.net
    lines.push("", `== ${n.role === "train" ? "train net" : `test net #${n.index} (test_iter ${n.testIter})`} from ${n.source}`)
    lines.push(...("error" in built ? [`missing: ${built.error}`] : netTable(built.graph)))
  }
  return lines
}
