import { allFinite, centerAddScaled } from "../kernels.js"
import { stalenessScale, stateless, takeReply, type AsyncRule } from "../update-rule.js"

/**
 * downpour (Dean et al. 2012, with τ local steps): the worker sends its progress
 * Δ = x_i − x_at_last_pull; the center adds it, x̃ += Δ (with staleness_aware: Δ / (1 + staleness));
 * the worker then continues from x̃ as it is after the update (it "pulls" x̃). The workers' progress
 * adds up instead of being averaged away. The reported distance is ‖Δ‖.
 */
export const downpour: AsyncRule<"downpour"> = {
  name: "downpour",
  summary: "the worker pushes Δ = x_i − x_at_last_pull, x̃ += Δ, and pulls x̃",
  synchronous: false,
  sends: "progress",
  settings: ["staleness_aware"],
  // τ 5: the period measured fastest on MNIST (see defaultEasgdSettings); a user's --period still wins.
  defaults: { period: 5 },
  center: (settings) => ({
    ...stateless,
    exchange(center, e) {
      if (!allFinite(e.message)) {
        e.reply.set(center)
        return { applied: false }
      }
      centerAddScaled(center, e.message, stalenessScale(settings, e.staleness))
      e.reply.set(center)
      let s = 0
      for (let k = 0; k < e.message.length; k++) s += e.message[k]! * e.message[k]!
      return { applied: true, alpha: 1, distance: Math.sqrt(s) }
    }
  }),
  workerStep: takeReply
}
