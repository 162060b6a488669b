import type { AsyncRule } from "../update-rule.js"
import { elasticCenter, elasticWorkerStep } from "./elastic.js"

/**
 * async-easgd (DeepSpark's rule, the default): the worker sends x_i and receives x̃ as it was before the
 * update; worker x_i ← α·x̃ + (1−α)·x_i; center x̃ ← (1−α_s)·x̃ + α_s·x_i with
 * α_s = moving_rate × server_factor (each decayed by its schedule), applied as each exchange arrives.
 * With staleness_aware the center's rate is α_s / (1 + staleness).
 */
export const asyncEasgd: AsyncRule<"async-easgd"> = {
  name: "async-easgd",
  summary: "DeepSpark's asynchronous elastic averaging: x̃ ← (1−α_s)x̃ + α_s·x_i, x_i ← αx̃ + (1−α)x_i",
  synchronous: false,
  sends: "params",
  settings: ["moving_rate", "server_factor", "decay_rate", "decay_step", "decay_limit", "factor_decay_rate", "factor_decay_step", "factor_decay_limit", "staleness_aware"],
  defaults: {},
  center: (settings, workers) => elasticCenter(settings, workers, (s, n) => ({ center: s.centerRate(n), worker: s.alpha(n) })),
  workerStep: elasticWorkerStep
}
