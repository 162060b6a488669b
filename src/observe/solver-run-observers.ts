import { Effect, Exit, Scope } from "effect"
import { caffeLogEvents } from "./caffe-log-events.js"
import { RunDone, RunStarted } from "./run-event.js"
import { makeRunEventHub, type RunEventHub } from "./run-event-hub.js"
import { eventLogWriter, observeRun, plotWriter } from "./run-observers.js"

/**
 * The observers of a single solver's run (`deepspark train` without workers), for callers outside
 * Effect: its glog lines are fed in (`feed`) and become RunEvents on a hub, which the event log, the
 * plot and any `extra` consumer (the dashboard) read. `finish` ends the run's events and waits until
 * every file is written.
 */
export interface SolverRunObservers {
  readonly hub: RunEventHub
  readonly feed: (line: string) => void
  readonly finish: () => Promise<void>
}

export const startSolverRunObservers = async (options: {
  readonly solver: string
  readonly eventLog?: string
  readonly plot?: string
  readonly title?: string
  /** More consumers, started on the same hub (e.g. the dashboard); released by `finish`. */
  readonly extra?: (hub: RunEventHub) => Effect.Effect<unknown, unknown, Scope.Scope>
}): Promise<SolverRunObservers> => {
  const scope = await Effect.runPromise(Scope.make())
  const setup = Effect.gen(function* () {
    const hub = yield* makeRunEventHub()
    const waits: Array<Effect.Effect<void>> = []
    if (options.eventLog) waits.push(yield* observeRun(hub, eventLogWriter(options.eventLog)))
    if (options.plot) waits.push(yield* observeRun(hub, plotWriter(options.plot, options.title ?? options.solver)))
    if (options.extra) yield* options.extra(hub)
    return { hub, waits }
  })
  const { hub, waits } = await Effect.runPromise(setup.pipe(Scope.extend(scope))).catch(async (e) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  })
  hub.publish(new RunStarted({ t: hub.elapsed(), solver: options.solver, workers: 1, rule: "single" }))
  const parser = caffeLogEvents(hub.publish, hub.elapsed)
  let finished = false
  return {
    hub,
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
