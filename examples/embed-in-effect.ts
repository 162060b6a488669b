/**
 * Embedding deepspark in your own Effect application: the center variable is an ordinary Effect
 * service (`Center`), provided by a Layer; trainers are fibers running `runTrainerLoop` against it
 * over whatever transport you choose. Here everything runs in one process over TCP loopback, with the
 * simulator's synthetic problem standing in for a Caffe net (swap in the "caffe" trainer kind or
 * `runDistributedTrain` for real nets), and your own service reads the center's state.
 *
 *   node bin/run-ts.mjs examples/embed-in-effect.ts
 */
import { Rng } from "@deepspark/engine"
import { Context, Effect, Layer } from "effect"
import {
  Center,
  layerCenter,
  layerCenterClientProtocolTcp,
  makeCenterClient,
  makeEasgdSettings,
  problemTrainer,
  runTrainerLoop,
  serveCenterTcp,
  softmaxRegressionProblem
} from "../src/index.js"

const problem = softmaxRegressionProblem({ seed: 3, separation: 0.6 }, (s) => new Rng(s))

/** Your application's own service, built on the Center. */
class ModelReport extends Context.Tag("app/ModelReport")<ModelReport, { readonly accuracy: Effect.Effect<number> }>() {}
const ModelReportLive = Layer.effect(
  ModelReport,
  Effect.map(Center, (center) => ({ accuracy: Effect.map(center.params, (x) => problem.evaluate(x).accuracy) }))
)

const trainer = (port: number, i: number) =>
  Effect.gen(function* () {
    const client = yield* makeCenterClient
    return yield* runTrainerLoop(client, problemTrainer(problem, i, 2, new Rng(100 + i)), {
      workerId: `app-worker-${i}`,
      token: "example-token",
      partition: { index: i, count: 2 },
      period: 5,
      maxIter: 100
    })
  }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))

const program = Effect.gen(function* () {
  const report = yield* ModelReport
  console.log(`accuracy before: ${(yield* report.accuracy).toFixed(3)}`)
  const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0 })
  const results = yield* Effect.all([trainer(port, 0), trainer(port, 1)], { concurrency: "unbounded" })
  console.log(`workers: ${results.map((r) => `${r.iterations} iterations / ${r.exchanges} exchanges`).join(", ")}`)
  console.log(`accuracy after:  ${(yield* report.accuracy).toFixed(3)}`)
})

const CenterLive = layerCenter({
  token: "example-token",
  settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }),
  workers: 2,
  initial: problem.init(new Rng(1))
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(ModelReportLive.pipe(Layer.provideMerge(CenterLive))))).catch((e) => {
  console.error(e)
  process.exit(1)
})
