import type { Rng } from "@deepspark/engine"

/**
 * What the simulator trains: a parameter vector, a local SGD step on one worker's partition, and an
 * evaluation of the center. The built-in problem is softmax regression on seeded Gaussian clusters —
 * small enough that a simulated run of 32 workers takes milliseconds, yet with a real loss/accuracy
 * trade-off so the effects of staleness, α and τ show. A real Net can implement the same interface.
 */
export interface SimProblem {
  readonly paramCount: number
  init(rng: Rng): Float32Array
  /**
   * One local minibatch SGD step of worker `worker` (of `workers`) at its local iteration, with the
   * problem's lr × lrScale (default 1); returns the loss.
   */
  step(params: Float32Array, worker: number, workers: number, iteration: number, rng: Rng, lrScale?: number): number
  /** Training records (elastic runs assign ranges of them). */
  readonly trainSize: number
  readonly batchSize: number
  /** One minibatch SGD step on the given training records (indices in [0, trainSize)); returns the loss. */
  stepOn(params: Float32Array, records: ArrayLike<number>, lrScale?: number): number
  evaluate(params: Float32Array): { readonly loss: number; readonly accuracy: number }
}

export interface SoftmaxProblemOptions {
  readonly features?: number
  readonly classes?: number
  readonly trainSize?: number
  readonly testSize?: number
  readonly batchSize?: number
  readonly lr?: number
  /** Distance between cluster centres relative to their spread (smaller = harder). */
  readonly separation?: number
  readonly seed?: number
}

export const softmaxRegressionProblem = (options: SoftmaxProblemOptions = {}, makeRng: (seed: number) => Rng): SimProblem => {
  const D = options.features ?? 16
  const C = options.classes ?? 4
  const nTrain = options.trainSize ?? 4096
  const nTest = options.testSize ?? 1024
  const batch = options.batchSize ?? 32
  const lr = options.lr ?? 0.05
  const sep = options.separation ?? 1.0
  const rng = makeRng(options.seed ?? 7)

  const centres = new Float32Array(C * D)
  for (let i = 0; i < centres.length; i++) centres[i] = rng.gaussian(0, sep)
  const makeSet = (n: number) => {
    const x = new Float32Array(n * D)
    const y = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      const c = rng.nextInt(C)
      y[i] = c
      for (let d = 0; d < D; d++) x[i * D + d] = centres[c * D + d]! + rng.gaussian(0, 1)
    }
    return { x, y, n }
  }
  const train = makeSet(nTrain)
  const test = makeSet(nTest)
  const P = C * D + C
  const logits = new Float64Array(C)
  const grad = new Float32Array(P)
  const batchIndex = new Uint32Array(batch)

  const forwardOne = (w: Float32Array, x: Float32Array, i: number): void => {
    let max = -Infinity
    for (let c = 0; c < C; c++) {
      let s = w[C * D + c]!
      for (let d = 0; d < D; d++) s += w[c * D + d]! * x[i * D + d]!
      logits[c] = s
      if (s > max) max = s
    }
    let z = 0
    for (let c = 0; c < C; c++) {
      logits[c] = Math.exp(logits[c]! - max)
      z += logits[c]!
    }
    for (let c = 0; c < C; c++) logits[c] = logits[c]! / z
  }

  return {
    paramCount: P,
    init: (r) => {
      const w = new Float32Array(P)
      for (let i = 0; i < C * D; i++) w[i] = r.gaussian(0, 0.01)
      return w
    },
    trainSize: train.n,
    batchSize: batch,
    step(w, worker, workers, iteration, _rng, lrScale = 1) {
      // Contiguous partition of the training set; minibatches in order, wrapping (like the Data layer).
      const lo = Math.floor((worker * train.n) / workers)
      const hi = Math.floor(((worker + 1) * train.n) / workers)
      const size = hi - lo
      for (let b = 0; b < batch; b++) batchIndex[b] = lo + ((iteration * batch + b) % size)
      return this.stepOn(w, batchIndex, lrScale)
    },
    stepOn: (w, records, lrScale = 1) => {
      grad.fill(0)
      let loss = 0
      const batch = records.length
      for (let b = 0; b < batch; b++) {
        const i = records[b]!
        forwardOne(w, train.x, i)
        const label = train.y[i]!
        loss -= Math.log(Math.max(logits[label]!, 1e-30))
        for (let c = 0; c < C; c++) {
          const g = logits[c]! - (c === label ? 1 : 0)
          for (let d = 0; d < D; d++) grad[c * D + d] += g * train.x[i * D + d]!
          grad[C * D + c] += g
        }
      }
      const rate = lr * lrScale
      for (let k = 0; k < P; k++) w[k] -= (rate * grad[k]!) / batch
      return loss / batch
    },
    evaluate: (w) => {
      let loss = 0
      let correct = 0
      for (let i = 0; i < test.n; i++) {
        forwardOne(w, test.x, i)
        const label = test.y[i]!
        loss -= Math.log(Math.max(logits[label]!, 1e-30))
        let best = 0
        for (let c = 1; c < C; c++) if (logits[c]! > logits[best]!) best = c
        if (best === label) correct++
      }
      return { loss: loss / test.n, accuracy: correct / test.n }
    }
  }
}
