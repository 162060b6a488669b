import { distance, syncElasticRound } from "../kernels.js"
import { rateSchedule } from "../rate-schedule.js"
import { stateless, takeReply, type SyncRule } from "../update-rule.js"

/**
 * sync-easgd (Zhang et al. 2015, synchronous): every τ all workers meet; x̃ ← (1−β)x̃ + β·mean(x_i) with
 * β = p·α (p workers in the round, β ≤ 1), and each x_i ← x_i − α(x_i − x̃_old), which the center
 * computes and sends back as the worker's new parameters.
 */
export const syncEasgd: SyncRule<"sync-easgd"> = {
  name: "sync-easgd",
  summary: "synchronous EASGD rounds: x̃ ← (1−β)x̃ + β·mean(x_i), β = pα; x_i ← x_i − α(x_i − x̃)",
  synchronous: true,
  sends: "params",
  settings: ["moving_rate", "decay_rate", "decay_step", "decay_limit"],
  defaults: {},
  center: (settings, workers) => {
    const schedule = rateSchedule(settings, Math.max(1, workers))
    return {
      ...stateless,
      round(center, messages, exchanges) {
        const copies = messages.map((m) => m.slice())
        syncElasticRound(center, copies, schedule.alpha(exchanges))
        return messages.map((m, i) => ({ reply: copies[i]!, distance: distance(m, center) }))
      }
    }
  },
  workerStep: takeReply
}
