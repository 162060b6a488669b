import type { AsyncRule } from "../update-rule.js"
import { elasticCenter, elasticWorkerStep } from "./elastic.js"

/**
 * easgd (Zhang et al. 2015, Algorithm 1, asynchronous): one symmetric α — e = α(x_i − x̃); x_i −= e;
 * x̃ += e. server_factor is not used. With staleness_aware the center's rate is α / (1 + staleness).
 */
export const easgd: AsyncRule<"easgd"> = {
  name: "easgd",
  summary: "Zhang et al.'s asynchronous EASGD: e = α(x_i − x̃), x_i −= e, x̃ += e",
  synchronous: false,
  sends: "params",
  settings: ["moving_rate", "decay_rate", "decay_step", "decay_limit", "staleness_aware"],
  defaults: {},
  center: (settings, workers) => elasticCenter(settings, workers, (s, n) => ({ center: s.alpha(n), worker: s.alpha(n) })),
  workerStep: elasticWorkerStep
}
