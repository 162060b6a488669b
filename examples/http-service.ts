/**
 * Embedding training in your own HTTP service (@effect/platform's server): `POST /runs` starts a
 * distributed run in the background, `GET /runs/ID` answers its state (read from the run's event
 * stream), `GET /runs/ID/events` streams its events as server-sent events. The service owns the runs'
 * fibers: stopping the service interrupts them.
 *
 *   node bin/run-ts.mjs examples/http-service.ts [--port 8080]        # serve until Ctrl-C
 *   node bin/run-ts.mjs examples/http-service.ts --self-test          # start one run through HTTP, print it, exit
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { silentLogger } from "@deepspark/engine"
import { Deferred, Effect, Queue, Stream } from "effect"
import * as http from "node:http"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Dataset, Rules, Training, type RunEvent, type TrainingRun } from "../src/index.js"
import { stripesImage } from "./pipeline/stripes-data.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const { values } = parseArgs({ options: { port: { type: "string", default: "8080" }, "self-test": { type: "boolean", default: false } } })

interface RunState {
  exchanges: number
  lastLoss: number | null
  done: boolean
  error: string | null
}

const service = Effect.gen(function* () {
  const runs = new Map<number, { run: TrainingRun; state: RunState }>()
  const data = Dataset.fromIterable(Array.from({ length: 1200 }, (_, i) => stripesImage(i)))

  const startRun = (iterations: number) =>
    Effect.gen(function* () {
      const run = yield* Training.distributed(Training.fromCaffe("examples/pipeline/stripes_solver.prototxt", { cwd: root }), {
        partitions: data.partition(2),
        rule: Rules.asyncEasgd({ period: 10, movingRate: 0.2 }),
        maxIter: iterations,
        log: silentLogger
      })
      const state: RunState = { exchanges: 0, lastLoss: null, done: false, error: null }
      const follow = (e: RunEvent) => {
        if (e._tag === "ExchangeApplied") Object.assign(state, { exchanges: e.exchanges, lastLoss: e.loss })
        if (e._tag === "RunDone") state.done = true
      }
      yield* Effect.forkScoped(Stream.runForEach(run.events, (e) => Effect.sync(() => follow(e))))
      yield* Effect.forkScoped(run.result.pipe(Effect.catchAll((e) => Effect.sync(() => void (state.error = e.message)))))
      const id = runs.size + 1
      runs.set(id, { run, state })
      return id
    })

  // Requests ask for runs; the service's own fiber starts them, one at a time, so a run belongs to the
  // service (its scope), not to the request that asked for it.
  const requests = yield* Queue.unbounded<{ iterations: number; started: Deferred.Deferred<number> }>()
  yield* Effect.forkScoped(
    Effect.forever(Effect.flatMap(Queue.take(requests), ({ iterations, started }) => Effect.flatMap(startRun(iterations), (id) => Deferred.succeed(started, id))))
  )
  const app = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://service")
    if (request.method === "POST" && url.pathname === "/runs") {
      const started = yield* Deferred.make<number>()
      yield* Queue.offer(requests, { iterations: Number(url.searchParams.get("iterations") ?? 50), started })
      const id = yield* Deferred.await(started)
      return yield* HttpServerResponse.json({ id, state: `/runs/${id}`, events: `/runs/${id}/events` })
    }
    const m = /^\/runs\/(\d+)(\/events)?$/.exec(url.pathname)
    const entry = m ? runs.get(Number(m[1])) : undefined
    if (!entry) return HttpServerResponse.text("not found\n", { status: 404 })
    if (m![2])
      return HttpServerResponse.stream(
        entry.run.events.pipe(Stream.map((e) => new TextEncoder().encode(`data: ${JSON.stringify(e)}\n\n`))),
        { contentType: "text/event-stream" }
      )
    return yield* HttpServerResponse.json(entry.state)
  })

  const server = yield* NodeHttpServer.make(() => http.createServer(), { host: "127.0.0.1", port: values["self-test"] ? 0 : Number(values.port) })
  yield* server.serve(app)
  const address = server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : "?"
  console.log(`serving on ${address}: POST /runs?iterations=N, GET /runs/ID, GET /runs/ID/events`)
  return address
})

const selfTest = (address: string) =>
  Effect.promise(async () => {
    const started = (await (await fetch(`${address}/runs?iterations=50`, { method: "POST" })).json()) as { id: number }
    console.log(`started run ${started.id}`)
    for (;;) {
      await new Promise((r) => setTimeout(r, 500))
      const state = (await (await fetch(`${address}/runs/${started.id}`)).json()) as RunState
      if (state.error) throw new Error(state.error)
      if (state.done) {
        console.log(`run ${started.id} done: ${state.exchanges} exchanges, last loss ${state.lastLoss?.toFixed(4)}`)
        return
      }
    }
  })

const program = Effect.gen(function* () {
  const address = yield* service
  if (values["self-test"]) yield* selfTest(address)
  else yield* Effect.never
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.asVoid)).then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  }
)
