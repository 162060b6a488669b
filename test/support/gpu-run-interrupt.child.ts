// Child of test/distributed-gpu-stop.test.ts: 2 trainer threads on the WebGPU device (software adapters
// allowed), each run interrupted after a different delay — while the threads are still choosing their
// adapter, opening the device, building the net, or training. The process must survive every one:
// terminating a thread inside a Dawn call, or with a device promise pending, aborts the whole process.
import { GlogLogger } from "@deepspark/engine"
import { Effect } from "effect"
import { runLocalDistributedTrain } from "../../src/driver/distributed-train.js"
import { makeEasgdSettings } from "../../src/easgd/settings.js"
import { tinyMnist } from "./tiny-mnist.js"

process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] = "1"
const delays = (process.argv[2] ?? "100,400,900,1600,3000").split(",").map(Number)
const data = await tinyMnist({ trainRecords: 500, testRecords: 100 })
const solver = data.solver("solver_gpu_stop.prototxt", { max_iter: 100_000 }, { test: false })
for (const ms of delays) {
  const started = Date.now()
  const run = runLocalDistributedTrain({
    solverFile: solver,
    cwd: data.dir,
    workers: 2,
    backend: "gpu:0",
    settings: makeEasgdSettings({ rule: "async-easgd", period: 10, moving_rate: 0.2 }),
    log: new GlogLogger(() => undefined),
    testLog: () => undefined
  })
  const outcome = await Effect.runPromise(Effect.scoped(run).pipe(Effect.timeout(`${ms} millis`), Effect.option))
  console.log(`interrupted after ${ms} ms: ${outcome._tag === "None" ? "stopped" : "finished"} in ${Date.now() - started} ms`)
}
console.log("survived")
