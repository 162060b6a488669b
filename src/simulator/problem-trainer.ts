import type { Rng } from "@deepspark/engine"
import type { LocalTrainer } from "../worker/local-trainer.js"
import type { SimProblem } from "./problem.js"

/** Runs a simulator problem as a real LocalTrainer, for runtime tests that need no Caffe net. */
export const problemTrainer = (problem: SimProblem, worker: number, workers: number, rng: Rng): LocalTrainer => {
  const params = problem.init(rng)
  let iteration = 0
  return {
    paramCount: problem.paramCount,
    readParams: (out) => out.set(params),
    writeParams: (x) => params.set(x),
    step: () => problem.step(params, worker, workers, iteration++, rng),
    get iteration() {
      return iteration
    },
    setIteration: (i) => {
      iteration = i
    },
    cursor: () => JSON.stringify({ iteration }),
    restoreCursor: () => {},
    resetHistory: () => {}
  }
}
