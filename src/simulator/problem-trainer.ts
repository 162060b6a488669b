import type { Rng } from "@deepspark/engine"
import type { LocalTrainer } from "../worker/local-trainer.js"
import type { SimProblem } from "./problem.js"

/**
 * Runs a simulator problem as a real LocalTrainer, for runtime tests that need no Caffe net. Given an
 * elastic assignment it reads exactly those records, in order, wrapping at the range's end (like the
 * Data layer on its partition); `onRecords` sees every minibatch's record indices (tests check coverage).
 */
export const problemTrainer = (
  problem: SimProblem,
  worker: number,
  workers: number,
  rng: Rng,
  onRecords?: (records: Uint32Array) => void
): LocalTrainer => {
  const params = problem.init(rng)
  let iteration = 0
  let range: { from: number; to: number } | undefined
  let read = 0
  const batch = new Uint32Array(problem.batchSize)
  return {
    paramCount: problem.paramCount,
    readParams: (out) => out.set(params),
    writeParams: (x) => params.set(x),
    step: () => {
      if (!range) return problem.step(params, worker, workers, iteration++, rng)
      const size = range.to - range.from
      for (let b = 0; b < batch.length; b++) batch[b] = range.from + ((read + b) % size)
      read += batch.length
      iteration++
      onRecords?.(batch)
      return problem.stepOn(params, batch)
    },
    get iteration() {
      return iteration
    },
    setIteration: (i) => {
      iteration = i
    },
    cursor: () => JSON.stringify({ iteration }),
    restoreCursor: () => {},
    resetHistory: () => {},
    elastic: {
      records: problem.trainSize,
      assign: (r) => {
        range = { from: r.from, to: r.to }
        read = 0
      },
      read: () => read
    }
  }
}
