import { GlogLogger } from "@deepspark/engine"
import { Deferred, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { runDistributedTrain } from "../src/driver/distributed-train.js"
import { TcpWorkerPool } from "../src/driver/worker-pool.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { buildTrainer } from "../src/worker/build-trainer.js"
import "../src/worker/engine-trainer.js"
import { runTrainerLoop } from "../src/worker/trainer-loop.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../src/transport/tcp.js"
import { mnistWorkspace, writeSolverVariant } from "./support/mnist-workspace.js"

describe("the same driver with TCP workers (TcpWorkerPool)", () => {
  it("serves the center on loopback; two Caffe trainers connect, train their partitions and the run completes", async () => {
    const dir = await mnistWorkspace()
    const solver = writeSolverVariant(dir, "lenet_solver_tcp_pool.prototxt", { max_iter: 20, test_iter: 3, test_interval: 20, snapshot: 0, snapshot_prefix: "examples/mnist/tcp_pool" })
    const listening = Effect.runSync(Deferred.make<number>())
    const worker = (i: number) =>
      Effect.gen(function* () {
        const port = yield* Deferred.await(listening)
        const trainer = yield* Effect.promise(() =>
          buildTrainer({ kind: "caffe", solverPath: solver, workingDirectory: dir }, { index: i, count: 2 })
        )
        return yield* Effect.gen(function* () {
          const client = yield* makeCenterClient
          return yield* runTrainerLoop(client, trainer, { workerId: `tcp${i}`, token: "pool-token", partition: { index: i, count: 2 }, period: 5, maxIter: 20 })
        }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port })))
      })
    const lines: string[] = []
    const driver = runDistributedTrain({
      solverFile: solver,
      cwd: dir,
      workers: 2,
      settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
      log: new GlogLogger((l) => lines.push(l))
    }).pipe(
      Effect.provide(
        TcpWorkerPool({ host: "127.0.0.1", port: 0, token: "pool-token", onListening: (a) => Deferred.unsafeDone(listening, Effect.succeed(a.port)) })
      )
    )
    const [result, w0, w1] = await Effect.runPromise(
      Effect.scoped(Effect.all([driver, worker(0), worker(1)], { concurrency: "unbounded" }))
    )
    expect(w0.exchanges + w1.exchanges).toBe(8)
    expect(result.exchanges).toBe(8)
    expect(result.workers.map((w) => w.workerId).sort()).toEqual(["tcp0", "tcp1"])
    expect(lines.some((l) => /Trainers: TCP workers on 127\.0\.0\.1:0/.test(l))).toBe(true)
    expect(result.snapshot.caffemodel).toMatch(/tcp_pool_iter_20\.caffemodel$/)
  }, 240_000)
})
