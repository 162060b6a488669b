import type { CenterEvent } from "../center/center-state.js"
import { ExchangeApplied, WorkerJoined, WorkerLost, WorkerRestarted, type RunEvent } from "./run-event.js"

/** The center's own events as RunEvents (duplicates and rejected requests are not progress: none). */
export const centerRunEvent = (e: CenterEvent, t: number): RunEvent | undefined => {
  switch (e.type) {
    case "exchange":
      return new ExchangeApplied({
        t,
        worker: e.workerId,
        exchanges: e.exchanges,
        iteration: e.clock,
        loss: e.loss,
        distance: e.distance,
        staleness: e.staleness,
        itersPerSecond: Number(e.itersPerSecond.toFixed(2)),
        latencyMs: e.latencyMs
      })
    case "registered":
      return e.incarnation > 1
        ? new WorkerRestarted({ t, worker: e.workerId, incarnation: e.incarnation })
        : new WorkerJoined({ t, worker: e.workerId, incarnation: e.incarnation, resumed: e.resumed })
    case "diverged":
      return new WorkerLost({ t, worker: e.workerId, reason: `diverged at iteration ${e.clock}; reset from the center` })
    default:
      return undefined
  }
}
