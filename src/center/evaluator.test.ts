import { Deferred, Effect, Fiber } from "effect"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { makeEvaluator, startEvaluatorAfter } from "./evaluator.js"

const net = `name: "tiny"
layer { name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 4 dim: 1 dim: 2 dim: 2 } shape { dim: 4 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
`
const solver = `net: "net.prototxt"
test_iter: 2
test_interval: 100
base_lr: 0.1
max_iter: 10
lr_policy: "fixed"
solver_mode: CPU
`

describe("the center's evaluator thread", () => {
  it("runs at the nice value it was given and tests x̃ on the solver's test net", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-evaluator-"))
    fs.writeFileSync(path.join(dir, "net.prototxt"), net)
    fs.writeFileSync(path.join(dir, "solver.prototxt"), solver)
    const lines: string[] = []
    const ownNiceness = os.getPriority(0)
    try {
      const { niceness, results } = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const evaluator = yield* makeEvaluator({ solverPath: "solver.prototxt", cwd: dir, niceness: 7, backend: "reference" }, (l) => void lines.push(l))
            // ip: 3×4 weights + 3 biases. Label 1 everywhere; a bias favouring class 1 makes every prediction right.
            const x = new Float32Array(15)
            x[13] = 100
            const results = yield* evaluator.test(x, 0)
            return { niceness: evaluator.niceness, results }
          })
        )
      )
      // Linux applies setpriority to the calling thread; elsewhere the value may be refused (null).
      if (process.platform === "linux") expect(niceness).toBe(7)
      // …and only to that thread: the center's own thread keeps its priority.
      expect(os.getPriority(0)).toBe(ownNiceness)
      const outputs = Object.fromEntries(results[0]!.outputs.map((o) => [o.name, o.value]))
      expect(outputs.accuracy).toBe(1)
      expect(outputs.loss).toBeLessThan(1e-6)
      expect(lines.some((l) => /Test net output #\d+: accuracy = 1/.test(l))).toBe(true)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("started after a gate, starts no thread before it opens and then tests as usual", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-evaluator-gate-"))
    fs.writeFileSync(path.join(dir, "net.prototxt"), net)
    fs.writeFileSync(path.join(dir, "solver.prototxt"), solver)
    const lines: string[] = []
    try {
      const { linesBeforeGate, results } = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const gate = yield* Deferred.make<void>()
            const evaluator = yield* startEvaluatorAfter(Deferred.await(gate), { solverPath: "solver.prototxt", cwd: dir, backend: "reference" }, (l) => void lines.push(l))
            const x = new Float32Array(15)
            x[13] = 100
            // A test asked for before the gate opens waits for the thread.
            const test = yield* Effect.fork(evaluator.test(x, 0))
            // A started thread logs its solver within ≈ 0.5 s; a gated one says nothing.
            yield* Effect.sleep("1500 millis")
            const linesBeforeGate = lines.length
            yield* Deferred.succeed(gate, undefined)
            const results = yield* Fiber.join(test)
            return { linesBeforeGate, results }
          })
        )
      )
      expect(linesBeforeGate).toBe(0)
      expect(lines.some((l) => /Initializing solver/.test(l))).toBe(true)
      const outputs = Object.fromEntries(results[0]!.outputs.map((o) => [o.name, o.value]))
      expect(outputs.accuracy).toBe(1)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
