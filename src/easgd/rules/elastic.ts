import { allFinite, elasticExchange, workerElastic } from "../kernels.js"
import { rateSchedule } from "../rate-schedule.js"
import type { EasgdSettings } from "../settings.js"
import { stalenessScale, stateless, type AsyncRuleCenter } from "../update-rule.js"

/**
 * What the elastic rules (async-easgd, easgd, eamsgd, single) share: the center moves x̃ towards x_i by
 * a rate and replies with x̃ as it was before (one pass over the tensors, see elasticExchange); the
 * worker moves x_i towards that x̃ by α.
 */
export const elasticCenter = (
  settings: EasgdSettings,
  workers: number,
  rates: (schedule: ReturnType<typeof rateSchedule>, exchanges: number) => { readonly center: number; readonly worker: number }
): AsyncRuleCenter => {
  const schedule = rateSchedule(settings, Math.max(1, workers))
  return {
    ...stateless,
    exchange(center, e) {
      const r = rates(schedule, e.exchanges)
      const squared = elasticExchange(center, e.message, r.center * stalenessScale(settings, e.staleness), e.reply)
      if (!Number.isFinite(squared) && !allFinite(e.message)) {
        center.set(e.reply) // undo: x̃ as it was
        return { applied: false }
      }
      return { applied: true, alpha: r.worker, distance: Math.sqrt(squared) }
    }
  }
}

/** x_i ← α·x̃_old + (1−α)·x_i; α = 1 takes x̃, α = 0 keeps x_i. */
export const elasticWorkerStep = (params: Float32Array, reply: Float32Array, alpha: number): Float32Array => {
  if (alpha === 1) return reply
  if (alpha > 0) workerElastic(params, reply, alpha)
  return params
}
