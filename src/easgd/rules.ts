/**
 * The exchange rules between a worker's parameters x_i and the center variable x̃. Each rule is a pair
 * of pure, in-place Float32Array kernels: what the center does when a worker's message arrives, and
 * what the worker does with the center's reply. The center applies one exchange at a time as it arrives
 * (no barrier, no lock across workers: DeepSpark's "lock-free"), except the synchronous rules, whose
 * center waits for a round of all workers.
 *
 * Rules (see shared/docs/deepspark-facts.md):
 * - async-easgd (DeepSpark, default): the worker sends x_i and receives x̃ as it was before the update;
 *   worker x_i ← α·x̃ + (1−α)·x_i; center x̃ ← (1−α_s)·x̃ + α_s·x_i, α_s = moving_rate × server_factor.
 * - easgd (Zhang et al., Alg. 1): e = α(x_i − x̃); x_i −= e; x̃ += e (one symmetric α).
 * - eamsgd: easgd's elastic step; the worker's local optimiser is Nesterov momentum (δ, default 0.99).
 * - sync-easgd: every τ all workers meet; x̃ ← (1−β)x̃ + β·mean(x_i), β = p·α; x_i ← x_i − α(x_i − x̃_old).
 * - sync-avg (SparkNet): every τ, x̃ ← mean(x_i) and every x_i ← x̃.
 * - downpour: the worker pushes Δ = x_i − x_at_last_pull; x̃ += Δ; the worker pulls x_i ← x̃.
 * - single: one worker, no exchange; the center mirrors the worker (the baseline).
 */

export const ruleNames = ["async-easgd", "easgd", "eamsgd", "sync-easgd", "sync-avg", "downpour", "single"] as const
export type RuleName = (typeof ruleNames)[number]

export const isRuleName = (s: string): s is RuleName => (ruleNames as ReadonlyArray<string>).includes(s)

/** Whether the center must wait for all workers before applying a round. */
export const isSynchronous = (rule: RuleName): boolean => rule === "sync-easgd" || rule === "sync-avg"

/** The local optimiser a rule asks workers to use; undefined = the solver prototxt's own. */
export const localSolverOverride = (rule: RuleName): "Nesterov" | undefined =>
  rule === "eamsgd" ? "Nesterov" : undefined

const checkLengths = (a: Float32Array, b: Float32Array, what: string): void => {
  if (a.length !== b.length) throw new RangeError(`${what}: length ${a.length} != ${b.length}`)
}

/**
 * Center side of async-easgd / easgd / eamsgd: copies x̃ (before the update) into `reply`, then moves
 * x̃ towards x_i by `rate`. `reply` may be null when the caller does not need it.
 */
export const centerElastic = (
  center: Float32Array,
  worker: Float32Array,
  rate: number,
  reply: Float32Array | null
): void => {
  checkLengths(center, worker, "centerElastic")
  if (reply) {
    checkLengths(center, reply, "centerElastic reply")
    reply.set(center)
  }
  const r = Math.fround(rate)
  const keep = Math.fround(1 - r)
  for (let k = 0; k < center.length; k++) center[k] = keep * center[k]! + r * worker[k]!
}

/** Worker side of the elastic rules: x_i ← α·x̃_old + (1−α)·x_i. */
export const workerElastic = (worker: Float32Array, centerOld: Float32Array, alpha: number): void => {
  checkLengths(worker, centerOld, "workerElastic")
  const a = Math.fround(alpha)
  const keep = Math.fround(1 - a)
  for (let k = 0; k < worker.length; k++) worker[k] = a * centerOld[k]! + keep * worker[k]!
}

/** Synchronous EASGD round: x̃ ← (1−β)x̃ + β·mean(x_i) with β = p·α; each x_i ← x_i − α(x_i − x̃_old). */
export const syncElasticRound = (center: Float32Array, workers: ReadonlyArray<Float32Array>, alpha: number): void => {
  const p = workers.length
  if (p === 0) return
  const old = center.slice()
  const beta = Math.min(1, p * alpha)
  const mean = new Float64Array(center.length)
  for (const w of workers) {
    checkLengths(center, w, "syncElasticRound")
    for (let k = 0; k < w.length; k++) mean[k] += w[k]!
  }
  for (let k = 0; k < center.length; k++) center[k] = (1 - beta) * center[k]! + (beta * mean[k]!) / p
  for (const w of workers) workerElastic(w, old, alpha)
}

/** SparkNet-style averaging round: x̃ ← mean(x_i); every x_i ← x̃. */
export const averageRound = (center: Float32Array, workers: ReadonlyArray<Float32Array>): void => {
  const p = workers.length
  if (p === 0) return
  const mean = new Float64Array(center.length)
  for (const w of workers) {
    checkLengths(center, w, "averageRound")
    for (let k = 0; k < w.length; k++) mean[k] += w[k]!
  }
  for (let k = 0; k < center.length; k++) center[k] = mean[k]! / p
  for (const w of workers) w.set(center)
}

/** Downpour push: x̃ += Δ. */
export const centerAddDelta = (center: Float32Array, delta: Float32Array): void => {
  checkLengths(center, delta, "centerAddDelta")
  for (let k = 0; k < center.length; k++) center[k] += delta[k]!
}

/** Downpour worker: Δ = x_i − x_lastPull (written into `delta`). */
export const workerDelta = (worker: Float32Array, lastPull: Float32Array, delta: Float32Array): void => {
  checkLengths(worker, lastPull, "workerDelta")
  checkLengths(worker, delta, "workerDelta out")
  for (let k = 0; k < worker.length; k++) delta[k] = worker[k]! - lastPull[k]!
}

/** True when every value is finite (the center never absorbs NaN/Inf). */
export const allFinite = (x: Float32Array): boolean => {
  for (let k = 0; k < x.length; k++) if (!Number.isFinite(x[k]!)) return false
  return true
}

/** ‖a − b‖₂, the elastic distance reported per worker. */
export const distance = (a: Float32Array, b: Float32Array): number => {
  checkLengths(a, b, "distance")
  let s = 0
  for (let k = 0; k < a.length; k++) {
    const d = a[k]! - b[k]!
    s += d * d
  }
  return Math.sqrt(s)
}
