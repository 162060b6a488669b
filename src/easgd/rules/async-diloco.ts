import { allFinite, outerNesterovStep } from "../kernels.js"
import { takeReply, type AsyncRule } from "../update-rule.js"
import { outerMomentum } from "./outer-momentum.js"

/**
 * async-diloco: DiLoCo's outer optimiser applied as each worker's pseudo-gradient arrives, with no round
 * (in the spirit of SlowMo, Wang et al. 2020, and asynchronous local-SGD). Exactly:
 *
 *   worker i, every τ inner steps: Δ_i = x̃_at_pull − x_i, send Δ_i, continue from the x̃ it gets back.
 *   center, per arriving Δ_i with staleness s (center updates since worker i's pull):
 *     g = Δ_i / (1 + s);  u ← μ·u + g;  x̃ ← x̃ − lr_outer·(g + μ·u);  reply x̃ (after the update).
 *
 * With N workers the staleness settles near N − 1, so g ≈ Δ_i / N and the N arrivals of a "round" sum to
 * about one averaged DiLoCo step, while a worker that saw the latest x̃ (s = 0) is applied in full. μ and
 * lr_outer are outer_momentum and outer_lr (per arrival, not per round); u lives at the center and is
 * saved in its checkpoints.
 *
 * Default outer_lr 0.35 (μ 0.9), half DiLoCo's: with DiLoCo's 0.7 applied per arrival, a reduced LeNet
 * on MNIST (2 workers, τ 10) ended at chance (0.11) where 0.35 reached 0.885 — each Δ_i lands on an x̃
 * the momentum has already moved, and the delayed feedback overshoots. The simulator agrees on the
 * order (npm run bench rules).
 *
 * The outer momentum defaults to 0.9 up to 3 workers and 0.5 from 4 (defaultsFor), measured on LeNet at
 * Caffe's lr (seed 1701, `npm run bench -- accuracy`): with 4 and 8 workers μ 0.9 left x̃ at chance
 * (0.11) for the whole run, while μ 0.5 reached 98.5 % at 1,250 iterations per worker with 4 (μ 0: not
 * within 1,963); with 2 workers μ 0.9 needed 1,000 iterations per worker and μ 0.5 1,750. More workers
 * mean more arrivals between a worker's pull and its push, each moving x̃ by its momentum too.
 */
const REDUCED_MOMENTUM_WORKERS = 4
export const asyncDiloco: AsyncRule<"async-diloco"> = {
  name: "async-diloco",
  summary: "asynchronous DiLoCo: each Δ_i = x̃ − x_i scaled by 1/(1+staleness) takes a Nesterov outer step",
  synchronous: false,
  sends: "pseudo-gradient",
  settings: ["outer_lr", "outer_momentum", "overlap_exchange"],
  defaults: { outerLr: 0.35 },
  defaultsFor: (workers) => (workers >= REDUCED_MOMENTUM_WORKERS ? { outerMomentum: 0.5 } : {}),
  center: (settings, _workers, paramCount) => {
    const momentum = outerMomentum(paramCount)
    return {
      save: momentum.save,
      restore: momentum.restore,
      exchange(center, e) {
        if (!allFinite(e.message)) {
          e.reply.set(center)
          return { applied: false }
        }
        const distance = outerNesterovStep(center, momentum.u, e.message, settings.outerLr, settings.outerMomentum, 1 / (1 + Math.max(0, e.staleness)))
        e.reply.set(center)
        return { applied: true, alpha: 1, distance }
      }
    }
  },
  workerStep: takeReply
}
