import { Data, Effect, Fiber, Stream, type Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { openEventLog } from "./event-log.js"
import { eventLogRecord, type RunEvent } from "./run-event.js"
import type { RunEventHub } from "./run-event-hub.js"
import { progressPanels, renderSvg } from "./svg-plot.js"

/**
 * Consumers of a run's events that write files: the JSON-lines event log and the SVG progress plot.
 * Each subscribes to the hub at once (so it misses nothing) and runs in its own fiber; the returned
 * effect waits for it to have written everything once the hub has ended.
 */
export const observeRun = (
  hub: RunEventHub,
  consume: (events: Stream.Stream<RunEvent>) => Effect.Effect<void>
): Effect.Effect<Effect.Effect<void>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const events = yield* hub.subscribe
    const fiber = yield* Effect.forkScoped(consume(events))
    return Fiber.join(fiber)
  })

/** Writes every event to `file` (a fresh file for this run), one JSON line each. */
export const eventLogWriter = (file: string) => (events: Stream.Stream<RunEvent>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => openEventLog(file)),
    (log) =>
      Stream.runForEach(events, (e) =>
        Effect.sync(() => {
          // The event's own time (since the run's start) replaces the log's.
          const { type, ...fields } = eventLogRecord(e)
          log.write(type, fields)
        })
      ),
    (log) => Effect.sync(() => log.close())
  )

/** Writes `text` to `file` atomically (temp file + rename), so a reader never sees half a plot. */
const writeAtomically = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}

/** A file a run's observers cannot write (the event log, the plot): the user's setting, named. */
export class RunFileError extends Data.TaggedError("RunFileError")<{ readonly file: string; readonly message: string }> {}

/**
 * Starts a run's files before it trains: the event log emptied, the plot drawn without points — a
 * fresh file per run, so neither ever shows an older run — failing with the file that cannot be written.
 */
export const freshRunFiles = (files: { readonly eventLog?: string | undefined; readonly plot?: { readonly file: string; readonly title: string } | undefined }) =>
  Effect.forEach(
    [
      ...(files.eventLog !== undefined ? [{ file: files.eventLog, text: "" }] : []),
      ...(files.plot !== undefined ? [{ file: files.plot.file, text: renderSvg(progressPanels([]), { title: files.plot.title }) }] : [])
    ],
    ({ file, text }) =>
      Effect.try({
        try: () => writeAtomically(file, text),
        catch: (e) => new RunFileError({ file, message: `cannot write ${file}: ${e instanceof Error ? e.message : String(e)}` })
      }),
    { discard: true }
  )

/**
 * Keeps `file` an up-to-date SVG plot of the run: drawn when the run starts (without points), redrawn
 * after every test result, at most every `every` seconds of exchanges in between, and once more at the end.
 */
export const plotWriter =
  (file: string, title: string, options: { readonly every?: number } = {}) =>
  (events: Stream.Stream<RunEvent>) =>
    Effect.suspend(() => {
      const records: Array<ReturnType<typeof eventLogRecord>> = []
      const every = options.every ?? 10
      let drawnAt = -Infinity
      const draw = () => writeAtomically(file, renderSvg(progressPanels(records), { title }))
      draw()
      return Stream.runForEach(events, (e) =>
        Effect.sync(() => {
          records.push(eventLogRecord(e))
          if (e._tag === "TestResult" || e.t - drawnAt >= every) {
            drawnAt = e.t
            draw()
          }
        })
      ).pipe(Effect.ensuring(Effect.sync(draw)))
    })
