import type { Datum } from "@deepspark/data"
import { silentLogger } from "@deepspark/engine"
import { Chunk, ConfigProvider, Effect, Either, Fiber, Logger, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeEasgdSettings } from "../easgd/settings.js"
import { Dataset } from "./dataset.js"
import { Rules } from "./rules.js"
import { Training } from "./training.js"

/** A net whose only Data layer names a database that does not exist: the data comes from code. */
const folder = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-pipeline-train-"))
  fs.writeFileSync(
    path.join(dir, "net.prototxt"),
    `name: "blobs"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { scale: 0.00390625 } data_param { source: "no_such_lmdb" backend: LMDB batch_size: 4 } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`
  )
  fs.writeFileSync(
    path.join(dir, "solver.prototxt"),
    `net: "net.prototxt"\nbase_lr: 0.1\nlr_policy: "fixed"\nmax_iter: 20\ndisplay: 0\nsnapshot_prefix: "out/blobs"\nrandom_seed: 1\n`
  )
  return dir
}

/** Two classes of 1×1×2 "images": class 0 bright on the left, class 1 on the right. */
const records = Array.from({ length: 40 }, (_, i): { pixels: [number, number]; label: number } => ({
  pixels: i % 2 === 0 ? [200 + (i % 50), 10] : [10, 200 + (i % 50)],
  label: i % 2
}))

describe("Training.distributed over data given in code", () => {
  it("trains one worker per partition of an in-memory data set (through a transform stage) and streams typed events to the end", async () => {
    const dir = folder()
    const data = Dataset.fromIterable(records).map((r): Datum => ({ channels: 1, height: 1, width: 2, data: Uint8Array.from(r.pixels), label: r.label }))
    const job = Training.fromCaffe("solver.prototxt", { cwd: dir, backend: "reference" })
    const logged: string[] = []
    const { result, tags, workers } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const run = yield* Training.distributed(job, {
            partitions: data.partition(2),
            rule: Rules.asyncEasgd({ period: 5, movingRate: 0.3 }),
            dashboard: { port: 0 }
          })
          const events = yield* Effect.fork(Stream.runCollect(run.events))
          const result = yield* run.result
          // The dashboard serves while the run's scope is open: its metrics counted every exchange.
          const counted = () =>
            fetch(`${run.dashboard!.url}metrics`)
              .then((r) => r.text())
              .then((text) => Number(/^deepspark_exchanges_total (\d+)$/m.exec(text)?.[1] ?? 0))
          let exchangesCounted = 0
          for (let i = 0; i < 20 && exchangesCounted < 8; i++) {
            if (i > 0) yield* Effect.sleep("100 millis")
            exchangesCounted = yield* Effect.promise(counted)
          }
          expect(exchangesCounted).toBeGreaterThanOrEqual(8)
          const all = Chunk.toArray(yield* Fiber.join(events))
          return {
            result,
            tags: all.map((e) => e._tag),
            workers: new Set(all.flatMap((e) => (e._tag === "ExchangeApplied" ? [e.worker] : [])))
          }
        })
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logged.push(String(Array.isArray(message) ? message[0] : message))))))
    )
    // No log given: the run's lines went to the program's Effect Logger.
    expect(logged.find((l) => l.startsWith("Solving "))).toMatch(/^Solving solver\.prototxt with 2 workers: rule async-easgd \(period 5, moving_rate 0\.3, server_factor 1, /)
    expect(result.exchanges).toBe(8) // 2 workers × 20 iterations / τ 5
    expect(tags[0]).toBe("RunStarted")
    expect(tags.at(-1)).toBe("RunDone")
    expect(tags.filter((t) => t === "ExchangeApplied")).toHaveLength(8)
    expect(tags.filter((t) => t === "WorkerJoined")).toHaveLength(2)
    expect(tags).toContain("SnapshotWritten")
    expect([...workers].sort()).toEqual(["worker0", "worker1"])
    expect(fs.existsSync(path.join(dir, "out/blobs_iter_20.caffemodel"))).toBe(true)
  }, 120_000)

  it("a missing solver, partitions of different splits and an unknown Data layer are typed errors", async () => {
    const dir = folder()
    const data = Dataset.fromIterable(records.map((r) => ({ channels: 1, height: 1, width: 2, data: Uint8Array.from(r.pixels), label: r.label }) as Datum))
    const fail = (job: ReturnType<typeof Training.fromCaffe>, options: Parameters<typeof Training.runDistributed>[1]) =>
      Effect.runPromise(Training.runDistributed(job, { log: silentLogger, ...options }).pipe(Effect.flip))
    const missing = await fail(Training.fromCaffe("nope.prototxt", { cwd: dir }), {})
    expect(missing._tag).toBe("TrainingSetupError")
    expect(missing.message).toContain("nope.prototxt")
    const mixed = await fail(Training.fromCaffe("solver.prototxt", { cwd: dir }), { partitions: [data.partition(2)[0]!, data.partition(3)[1]!] })
    expect(mixed._tag).toBe("TrainingSettingsError")
    const layer = await fail(Training.fromCaffe("solver.prototxt", { cwd: dir }), { partitions: data.partition(2), dataLayer: "images" })
    expect(layer).toMatchObject({ _tag: "TrainingSettingsError", field: "dataLayer" })
    expect(layer.message).toContain("[data]")
    // A bad rule setting is written as a value and fails the run that uses it, naming the setting.
    const period = await fail(Training.fromCaffe("solver.prototxt", { cwd: dir }), { partitions: data.partition(2), rule: Rules.downpour({ period: 0 }) })
    expect(period).toMatchObject({ _tag: "TrainingSettingsError", field: "period" })
    const unknown = await fail(Training.fromCaffe("solver.prototxt", { cwd: dir }), { rule: { ...Rules.asyncEasgd(), rule: "nope" as never } })
    expect(unknown).toMatchObject({ _tag: "TrainingSettingsError", field: "rule" })
    // Files the run cannot write (here under a regular file) are named before any trainer starts.
    fs.writeFileSync(path.join(dir, "a-file"), "")
    for (const file of ["a-file/events.jsonl", "a-file/plot.svg"]) {
      const bad = await fail(Training.fromCaffe("solver.prototxt", { cwd: dir, backend: "reference" }), {
        partitions: data.partition(2),
        ...(file.endsWith(".svg") ? { plot: file } : { eventLog: file })
      })
      expect(bad).toMatchObject({ _tag: "TrainingSetupError", file: path.join(dir, file) })
    }
    fs.writeFileSync(path.join(dir, "prefix-solver.prototxt"), fs.readFileSync(path.join(dir, "solver.prototxt"), "utf8").replace("out/blobs", "a-file/blobs"))
    const prefix = await fail(Training.fromCaffe("prefix-solver.prototxt", { cwd: dir, backend: "reference" }), { partitions: data.partition(2) })
    expect(prefix).toMatchObject({ _tag: "TrainingSetupError", file: path.join(dir, "a-file/blobs") })
    expect(prefix.message).toContain("snapshot prefix")
  }, 60_000)

  it("Rules.config reads every DeepSpark setting from Effect Config; a bad value names it", async () => {
    const fromMap = (entries: Record<string, string>) =>
      Effect.runPromise(Effect.either(Rules.config).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries)), { pathDelim: "_" }))))
    const good = await fromMap({ DEEPSPARK_RULE: "async-diloco", DEEPSPARK_PERIOD: "7", DEEPSPARK_OUTER_LR: "0.3", DEEPSPARK_STALENESS_AWARE: "true" })
    expect(Either.getOrThrow(good)).toMatchObject({ rule: "async-diloco", period: 7, outerLr: 0.3, stalenessAware: true })
    // Nothing set: the default rule with its own defaults, as on the command line.
    expect(Either.getOrThrow(await fromMap({}))).toEqual(makeEasgdSettings({}))
    const bad = await fromMap({ DEEPSPARK_MOVING_RATE: "2" })
    expect(Either.isLeft(bad) && bad.left).toMatchObject({ _tag: "TrainingSettingsError", field: "moving_rate" })
    // For a run of 8 workers: the rule a run of 8 gets by default, and a named rule's defaults for 8.
    const forEight = (entries: Record<string, string>) =>
      Effect.runPromise(Rules.configFor(8).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries)), { pathDelim: "_" }))))
    expect(await forEight({})).toEqual(makeEasgdSettings({}, { workers: 8 }))
    expect((await forEight({})).rule).toBe("sync-sgd")
    expect(await forEight({ DEEPSPARK_RULE: "async-diloco" })).toMatchObject({ rule: "async-diloco", outerMomentum: 0.5 })
  })

  it("Rules.settings with the run's workers: no choice is the CLI's default for them; a choice gets its rule's defaults for them", async () => {
    const run = (choice: Parameters<typeof Rules.settings>[0], workers?: number) => Effect.runPromise(Rules.settings(choice, workers))
    expect((await run(undefined, 2)).rule).toBe("downpour")
    expect(await run(undefined, 4)).toMatchObject({ rule: "sync-sgd", lrScaling: "linear" })
    expect((await run(Rules.asyncDiloco(), 2)).outerMomentum).toBe(0.9)
    expect((await run(Rules.asyncDiloco(), 8)).outerMomentum).toBe(0.5)
    // A value given wins over the rule's defaults for the workers; settings built elsewhere are kept as they are.
    expect((await run(Rules.asyncDiloco({ outerMomentum: 0.8 }), 8)).outerMomentum).toBe(0.8)
    const built = makeEasgdSettings({ rule: "async-diloco" })
    expect(await run(built, 8)).toBe(built)
  })
})
