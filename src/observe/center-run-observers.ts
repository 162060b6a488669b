import type { CenterEvent } from "../center/center-state.js"
import type { CenterJob } from "../center/center-job.js"
import { centerRunEvent } from "./center-run-events.js"
import { accuracyOf, TestResult } from "./run-event.js"
import type { RunEventHub } from "./run-event-hub.js"

/**
 * `deepspark center`'s progress on a hub: the center's events (exchanges, workers joining, restarting,
 * diverging) and the tests of x̃ (the job's `evaluate`, wrapped) as RunEvents.
 */
export const observeCenter = (hub: RunEventHub, job: CenterJob) => ({
  onEvent: (e: CenterEvent) => {
    const event = centerRunEvent(e, hub.elapsed())
    if (event) hub.publish(event)
  },
  job: job.evaluate
    ? ({
        ...job,
        evaluate: async (x: Float32Array, exchanges: number) => {
          const result = await job.evaluate!(x, exchanges)
          const accuracy = accuracyOf(result.outputs)
          const loss = result.outputs.find((o) => (o.lossWeight ?? 0) > 0)?.value
          hub.publish(
            new TestResult({
              t: hub.elapsed(),
              iteration: exchanges,
              exchanges,
              ...(accuracy !== undefined ? { accuracy } : {}),
              ...(loss !== undefined ? { loss } : {}),
              outputs: result.outputs.map((o) => ({ name: o.name, value: o.value }))
            })
          )
          return result
        }
      } satisfies CenterJob)
    : job
})
