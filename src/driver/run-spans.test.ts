import { silentLogger } from "@deepspark/engine"
import { Effect, Tracer } from "effect"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tinyDummyNet } from "../../test/support/tiny-dummy-net.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { runLocalDistributedTrain } from "./distributed-train.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-spans-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
fs.writeFileSync(path.join(tmp, "tiny.prototxt"), tinyDummyNet)
fs.writeFileSync(
  path.join(tmp, "solver.prototxt"),
  `net: "tiny.prototxt"\nbase_lr: 0.05\nlr_policy: "fixed"\nmax_iter: 10\ndisplay: 0\ntest_iter: 1\ntest_interval: 5\nsnapshot_prefix: "tiny"\nrandom_seed: 3\n`
)

/**
 * The spans a distributed run opens, seen through the program's tracer (what @effect/opentelemetry
 * exports; examples/opentelemetry-traces.ts): one per RPC the center serves and one per test of x̃.
 */
describe("a distributed run's spans", () => {
  it("opens RpcServer.Exchange per exchange and deepspark.center.test per test of the center, with its exchange count", async () => {
    const spans: Array<{ name: string; attributes: ReadonlyMap<string, unknown> }> = []
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const base = yield* Effect.tracer
        const recording = Tracer.make({
          span: (name, parent, context, links, startTime, kind, options) => {
            const span = base.span(name, parent, context, links, startTime, kind, options)
            spans.push({ name, attributes: span.attributes })
            return span
          },
          context: (f, fiber) => base.context(f, fiber)
        })
        return yield* runLocalDistributedTrain({
          solverFile: "solver.prototxt",
          cwd: tmp,
          backend: "reference",
          workers: 2,
          settings: makeEasgdSettings({ rule: "async-easgd", period: 5 }),
          log: silentLogger,
          testLog: () => {},
          workerLogs: false
        }).pipe(Effect.withTracer(recording), Effect.scoped)
      })
    )
    expect(result.exchanges).toBe(4) // 2 workers × 10 iterations / τ 5
    expect(spans.filter((s) => s.name === "RpcServer.Exchange")).toHaveLength(4)
    const tests = spans.filter((s) => s.name === "deepspark.center.test")
    expect(tests.length).toBeGreaterThanOrEqual(1)
    expect(tests.map((s) => s.attributes.get("deepspark.exchanges"))).toContain(4)
  }, 120_000)
})
