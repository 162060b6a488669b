import { Effect, PubSub, Queue, Stream, type Scope } from "effect"
import type { RunEvent } from "./run-event.js"

/**
 * The progress of one run as a PubSub of typed events. The driver publishes from its synchronous
 * callbacks (`publish`); every consumer — the CLI log, the event log, the plot, the dashboard, a user's
 * Stream — subscribes on its own. A subscriber that comes late still sees the run from its start (the
 * PubSub replays up to `replay` events), and every subscriber's stream ends after the run's end.
 */
export interface RunEventHub {
  /** Seconds since the hub was made (the events' `t`). */
  readonly elapsed: () => number
  readonly publish: (event: RunEvent) => void
  /** Ends every subscriber's stream (after the events already published). */
  readonly end: Effect.Effect<void>
  /** The events from the start of the run (bounded by `replay`) to its end. */
  readonly events: Stream.Stream<RunEvent>
  /** Subscribes now (nothing published from here on is missed) and returns the subscription as a Stream. */
  readonly subscribe: Effect.Effect<Stream.Stream<RunEvent>, never, Scope.Scope>
}

const End = Symbol("deepspark/RunEventHub/End")
type Item = RunEvent | typeof End

export const makeRunEventHub = (options: { readonly replay?: number; readonly clock?: () => number } = {}) =>
  Effect.gen(function* () {
    const clock = options.clock ?? Date.now
    const start = clock()
    const pubsub = yield* PubSub.unbounded<Item>({ replay: options.replay ?? 100_000 })
    let ended = false
    const untilEnd = (dequeue: Queue.Dequeue<Item>) =>
      Stream.fromQueue(dequeue).pipe(
        Stream.takeWhile((e): e is RunEvent => e !== End),
        Stream.map((e) => e as RunEvent)
      )
    const subscribe = Effect.map(PubSub.subscribe(pubsub), untilEnd)
    const hub: RunEventHub = {
      elapsed: () => Math.round(clock() - start) / 1000,
      publish: (event) => {
        if (!ended) pubsub.unsafeOffer(event)
      },
      end: Effect.suspend(() => {
        if (ended) return Effect.void
        ended = true
        return PubSub.publish(pubsub, End).pipe(Effect.asVoid)
      }),
      events: Stream.unwrapScoped(subscribe),
      subscribe
    }
    return hub
  })
