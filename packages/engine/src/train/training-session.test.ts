import { parsePrototxt } from "@deepspark/caffe"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { CapturingLogger } from "./logger.js"
import { createTrainingSession } from "./training-session.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ds-session-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Inline net: random x → ip → EuclideanLoss against 0.5; stage "a" test nets add a second output. */
const solverText = (seed: number) => `
base_lr: 0.01 lr_policy: "fixed" momentum: 0.9 max_iter: 3 display: 1 random_seed: ${seed}
snapshot_after_train: false
test_iter: 2 test_iter: 3 test_interval: 3 test_compute_loss: true
test_state { stage: "a" } test_state { stage: "b" }
net_param {
  name: "staged"
  layer { name: "data" type: "DummyData" top: "x" top: "y"
    dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 }
      data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 0.5 } } }
  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p" inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" }
  layer { name: "extra" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "extra" loss_weight: 0 include { stage: "a" } }
}`

const session = (seed: number, log = new CapturingLogger()) =>
  createTrainingSession({ solverParam: parsePrototxt("SolverParameter", solverText(seed)), cwd: tmp, log })

const weights = (s: Awaited<ReturnType<typeof session>>) => s.trainNet.learnableParams().map((p) => Array.from(p.blob.data.subarray(0, p.blob.count)))

describe("createTrainingSession", () => {
  it("random_seed makes fillers and data repeatable; another seed changes them", async () => {
    const a = await session(7)
    const b = await session(7)
    const c = await session(8)
    expect(weights(a)).toEqual(weights(b))
    expect(weights(a)).not.toEqual(weights(c))
    a.solver.solve()
    b.solver.solve()
    expect(a.solver.iterationLosses).toEqual(b.solver.iterationLosses)
    expect(weights(a)).toEqual(weights(b))
    await Promise.all([a.close(), b.close(), c.close()])
  })

  it("builds one test net per test_state, sharing the train net's weights, with Test loss lines", async () => {
    const log = new CapturingLogger()
    const s = await session(1, log)
    expect(s.testNets.length).toBe(2)
    expect(s.testNets[0]!.outputBlobs().map((o) => o.name)).toEqual(["extra", "loss"])
    expect(s.testNets[1]!.outputBlobs().map((o) => o.name)).toEqual(["loss"])
    s.solver.solve()
    const tests = log.messages.filter((m) => /Testing net|Test loss|Test net output/.test(m))
    expect(tests.map((m) => m.replace(/= \S+.*$/, "=").replace(/: [\d.e+-]+$/, ":"))).toEqual([
      "Iteration 0, Testing net (#0)",
      "Test loss:",
      "    Test net output #0: extra =",
      "    Test net output #1: loss =",
      "Iteration 0, Testing net (#1)",
      "Test loss:",
      "    Test net output #0: loss =",
      "Iteration 3, Testing net (#0)",
      "Test loss:",
      "    Test net output #0: extra =",
      "    Test net output #1: loss =",
      "Iteration 3, Testing net (#1)",
      "Test loss:",
      "    Test net output #0: loss =",
    ])
    // The stage-a net's "extra" output has loss weight 0: no "(* w = … loss)" suffix.
    expect(log.messages.find((m) => m.includes("output #0: extra"))).toMatch(/extra = \S+$/)
    expect(log.messages).toContain("Creating training net specified in net_param.")
    expect(log.messages).toContain("Creating test net (#1) specified by net_param")
    // Test nets read the train net's parameter storage.
    expect(s.testNets[1]!.layerByName("ip")!.blobs[0]!.data).toBe(s.trainNet.layerByName("ip")!.blobs[0]!.data)
    await s.close()
  })
})
