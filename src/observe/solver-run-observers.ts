import { Effect, Exit, Scope } from "effect"
import { caffeLogEvents } from "./caffe-log-events.js"
import { RunDone, RunStarted } from "./run-event.js"
import { makeRunEventHub, type RunEventHub } from "./run-event-hub.js"
import { eventLogWriter, observeRun, plotWriter } from "./run-observers.js"

/**
 * The observers of a run driven outside Effect — a single solver (`deepspark train` without workers)
 * or `deepspark center`: events are published to `hub` (a single solver's glog lines are fed in with
 * `feed` and read as RunEvents), which the event log, the plot and the dashboard read. `finish` ends
 * the run's events and waits until every file is written.
 */
export interface SolverRunObservers {
  readonly hub: RunEventHub
  readonly feed: (line: string) => void
  /** Where the dashboard serves, when one was asked for. */
  readonly dashboardUrl: string | undefined
  readonly finish: () => Promise<void>
}

export const startSolverRunObservers = async (options: {
  readonly solver: string
  /** For the run's RunStarted event (default: 1 worker, "single"). */
  readonly workers?: number
  readonly rule?: string
  readonly eventLog?: string
  readonly plot?: string
  readonly title?: string
  /** Serve the live dashboard (../dashboard) on this address until `finish`. */
  readonly dashboard?: { readonly host: string; readonly port: number; readonly token?: string }
}): Promise<SolverRunObservers> => {
  const scope = await Effect.runPromise(Scope.make())
  const setup = Effect.gen(function* () {
    const hub = yield* makeRunEventHub()
    const waits: Array<Effect.Effect<void>> = []
    if (options.eventLog) waits.push(yield* observeRun(hub, eventLogWriter(options.eventLog)))
    if (options.plot) waits.push(yield* observeRun(hub, plotWriter(options.plot, options.title ?? options.solver)))
    let dashboardUrl: string | undefined
    if (options.dashboard) {
      // Loaded only when asked for: the HTTP server's modules.
      const { serveDashboard } = yield* Effect.promise(() => import("./dashboard/dashboard-server.js"))
      dashboardUrl = (yield* serveDashboard(hub, { ...options.dashboard, title: options.title ?? options.solver })).url
    }
    return { hub, waits, dashboardUrl }
  })
  const { hub, waits, dashboardUrl } = await Effect.runPromise(setup.pipe(Scope.extend(scope))).catch(async (e) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  })
  hub.publish(new RunStarted({ t: hub.elapsed(), solver: options.solver, workers: options.workers ?? 1, rule: options.rule ?? "single" }))
  const parser = caffeLogEvents(hub.publish, hub.elapsed)
  let finished = false
  return {
    hub,
    dashboardUrl,
    feed: parser.feed,
    finish: async () => {
      if (finished) return
      finished = true
      parser.flush()
      hub.publish(new RunDone({ t: hub.elapsed(), exchanges: 0, seconds: hub.elapsed() }))
      await Effect.runPromise(Effect.gen(function* () {
        yield* hub.end
        for (const w of waits) yield* w
      }).pipe(Effect.ensuring(Scope.close(scope, Exit.void))))
    }
  }
}
