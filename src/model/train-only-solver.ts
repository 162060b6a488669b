import type { SolverParameter } from "@deepspark/caffe"

/**
 * The solver a distributed worker runs: the user's solver unchanged in its update rule, lr policy,
 * momentum and decay (on the worker's local iteration counter, as DeepSpark does), but without test
 * nets and snapshots — the center tests and snapshots x̃ — and with its own random seed per partition.
 */
/** The user's solver reduced to its train net: no test nets, no test at start, no snapshots. */
export const trainOnlySolverParam = (p: SolverParameter): SolverParameter => {
  const out: SolverParameter = { ...p, snapshot: 0, snapshot_after_train: false, test_initialization: false }
  for (const k of ["test_net", "test_net_param", "test_iter", "test_state", "test_interval"] as const) delete out[k]
  return out
}

export const workerSolverParam = (p: SolverParameter, partitionIndex: number, override?: { type?: string; momentum?: number }): SolverParameter => {
  const out = trainOnlySolverParam(p)
  if (p.random_seed !== undefined && p.random_seed >= 0) out.random_seed = p.random_seed + 7919 * (partitionIndex + 1)
  if (override?.type) {
    out.type = override.type
    delete out.solver_type
  }
  if (override?.momentum !== undefined) out.momentum = override.momentum
  return out
}

/** The solver the center uses to test x̃: the user's test nets, no training-side side effects. */
export const centerSolverParam = (p: SolverParameter): SolverParameter => ({ ...p, snapshot: 0, snapshot_after_train: false })
