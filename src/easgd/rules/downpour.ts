import { progressExchange } from "../kernels.js"
import { progressScaleAt } from "../rate-schedule.js"
import { stalenessScale, stateless, takeReply, type AsyncRule } from "../update-rule.js"

/**
 * downpour (Dean et al. 2012, with τ local steps): the worker sends its progress
 * Δ = x_i − x_at_last_pull; the center adds it, x̃ += Δ (with staleness_aware: Δ / (1 + staleness));
 * the worker then continues from x̃ as it is after the update (it "pulls" x̃). The workers' progress
 * adds up instead of being averaged away, bounded to progress_gain workers' worth and reached after a
 * warm-up from the mean (progressScaleAt). The reported distance is ‖Δ‖.
 */
export const downpour: AsyncRule<"downpour"> = {
  name: "downpour",
  summary: "the worker pushes Δ = x_i − x_at_last_pull, x̃ += Δ, and pulls x̃",
  synchronous: false,
  sends: "progress",
  settings: ["staleness_aware", "progress_warmup", "progress_gain", "overlap_exchange"],
  // τ 5: the period measured fastest on MNIST. On LeNet at Caffe's lr the plain sum diverged: 4 workers at
  // iteration ≈ 40, 3 workers as soon as a 300-iteration warm-up reached the sum, 2 workers once at ≈ 180;
  // starting from the mean and bounding the step to 2 workers' worth (less beyond 3 workers: progressBound)
  // trained them (README).
  // A user's --period / --progress-warmup / --progress-gain still win.
  defaults: { period: 5, progressWarmup: 300, progressGain: 2 },
  center: (settings, workers) => ({
    ...stateless,
    exchange(center, e) {
      const present = e.workersPresent === undefined ? workers : Math.max(1, e.workersPresent)
      const scale = progressScaleAt(settings, present, e.exchanges) * stalenessScale(settings, e.staleness)
      const squared = progressExchange(center, e.message, scale, e.reply)
      if (!Number.isFinite(squared)) {
        e.reply.set(center)
        return { applied: false }
      }
      return { applied: true, alpha: 1, distance: Math.sqrt(squared) }
    }
  }),
  workerStep: takeReply
}
