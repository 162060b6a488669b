import type { NetGraphOptions, SolverNet } from "@deepspark/caffe"

/** Graph options for one of a solver's nets (its merged state plus the command's data shapes). */
export type GraphOptionsFor = (net: SolverNet) => NetGraphOptions
