import type { AsyncRule } from "../update-rule.js"
import { elasticCenter, elasticWorkerStep } from "./elastic.js"

/**
 * single: one worker and no averaging — the center mirrors the worker at every exchange (rate 1) and
 * the worker keeps its own parameters (α 0). The baseline the distributed rules are measured against.
 */
export const single: AsyncRule<"single"> = {
  name: "single",
  summary: "one worker, the center mirrors it (the baseline)",
  synchronous: false,
  sends: "params",
  settings: [],
  defaults: {},
  singleWorker: true,
  center: (settings, workers) => elasticCenter(settings, workers, () => ({ center: 1, worker: 0 })),
  workerStep: elasticWorkerStep
}
