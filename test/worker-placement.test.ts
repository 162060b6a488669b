import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { layerCenter } from "../src/center/center-service.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { runLocalWorkers, WorkerFailedError } from "../src/driver/local-workers.js"
import { mnistWorkspace } from "./support/mnist-workspace.js"

describe("placement is checked, not assumed", () => {
  it("a worker that cannot read its partition stops the run at once with an error naming it and the source", async () => {
    const dir = await mnistWorkspace()
    const net = fs.readFileSync(path.join(dir, "examples/mnist/lenet_train_test.prototxt"), "utf8").replace("examples/mnist/mnist_train_lmdb", "examples/mnist/no_such_lmdb")
    fs.writeFileSync(path.join(dir, "examples/mnist/lenet_missing_data.prototxt"), net)
    const solver = fs.readFileSync(path.join(dir, "examples/mnist/lenet_solver.prototxt"), "utf8").replace("lenet_train_test.prototxt", "lenet_missing_data.prototxt")
    fs.writeFileSync(path.join(dir, "examples/mnist/lenet_solver_missing_data.prototxt"), solver)
    const exit = await Effect.runPromiseExit(
      runLocalWorkers({
        assignments: [
          {
            workerId: "worker0",
            token: "t",
            partition: { index: 0, count: 2 },
            period: 5,
            maxIter: 10,
            adaptivePeriod: false,
            spec: { kind: "caffe", solverPath: "examples/mnist/lenet_solver_missing_data.prototxt", workingDirectory: dir }
          }
        ],
        backoff: "10 millis"
      }).pipe(Effect.scoped, Effect.provide(layerCenter({ token: "t", settings: makeEasgdSettings({}), workers: 1, initial: new Float32Array(431080) })))
    )
    expect(exit._tag).toBe("Failure")
    const error = exit._tag === "Failure" && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    expect(error).toBeInstanceOf(WorkerFailedError)
    expect((error as WorkerFailedError).attempts).toBe(1) // not retried
    expect((error as WorkerFailedError).message).toMatch(/worker 0/)
    expect((error as WorkerFailedError).message).toMatch(/no_such_lmdb/)
  }, 120_000)
})
