import type { NetParameter, SolverState } from "@deepspark/caffe"
import { writeCaffemodelSync, writeSolverStateSync } from "@deepspark/caffe"
import type { SnapshotStore } from "./solver.js"

/** Snapshots as Caffe's binary files, each written atomically (temporary file + rename). */
export const fileSnapshotStore: SnapshotStore = {
  writeModel: (file: string, net: NetParameter) => writeCaffemodelSync(file, net),
  writeState: (file: string, state: SolverState) => writeSolverStateSync(file, state)
}
