import type { SyncRule } from "../update-rule.js"
import { syncAvg } from "./sync-avg.js"

/**
 * sync-sgd: synchronous data-parallel SGD with Goyal et al.'s (2017) linear learning-rate scaling. Every
 * iteration (τ 1) all workers meet and x̃ ← mean(x_i), every x_i ← x̃ (sync-avg's round). As each worker
 * took one solver step from the same x̃, the mean is that step with the mean of the workers' gradients —
 * momentum and weight decay included, being linear in them — so N workers of batch B train as one
 * solver of batch N·B, at lr × N (ramped from × 1 over the first 100 iterations, lr_warmup).
 *
 * The rule for many workers: on MNIST with Caffe's LeNet solver it reached 98.5 % at 500 iterations per
 * worker with 4 workers and at 250 with 8 (0.29× and 0.14× the lone solver's 1,750; README), where
 * downpour's bounded sum needed 0.5–0.7×. It pays an exchange every iteration, so with 2 workers on 2
 * cores it was slower than downpour (README, "Time to accuracy").
 */
export const syncSgd: SyncRule<"sync-sgd"> = {
  ...syncAvg,
  name: "sync-sgd",
  summary: "synchronous data-parallel SGD: every iteration x̃ ← mean(x_i), x_i ← x̃, with lr × N (Goyal et al.)",
  settings: [],
  defaults: { period: 1, lrScaling: "linear", lrWarmup: 100 }
}
