import { silentLogger } from "@deepspark/engine"
import { Cause, Effect, Exit, Option } from "effect"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tinyDummyNet } from "../../test/support/tiny-dummy-net.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { runLocalDistributedTrain } from "./distributed-train.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-evaluator-start-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
fs.writeFileSync(path.join(tmp, "tiny.prototxt"), tinyDummyNet)
// The test net alone is broken: the center and the trainers build the train net, only the evaluator the test net.
fs.writeFileSync(path.join(tmp, "broken-test.prototxt"), tinyDummyNet.replace('type: "EuclideanLoss"', 'type: "NoSuchLayer"'))
const solver = (maxIter: number, testNet: string) =>
  `train_net: "tiny.prototxt"\ntest_net: "${testNet}"\nbase_lr: 0.05\nlr_policy: "fixed"\nmax_iter: ${maxIter}\ndisplay: 0\ntest_iter: 1\ntest_interval: 5\nsnapshot_prefix: "tiny"\nrandom_seed: 3\n`
fs.writeFileSync(path.join(tmp, "broken.prototxt"), solver(1_000_000, "broken-test.prototxt"))
fs.writeFileSync(path.join(tmp, "ok.prototxt"), solver(10, "tiny.prototxt"))

const run = (solverFile: string, testLog: (line: string) => void = () => {}) =>
  Effect.runPromiseExit(
    runLocalDistributedTrain({
      solverFile,
      cwd: tmp,
      backend: "reference",
      workers: 2,
      settings: makeEasgdSettings({ rule: "async-easgd", period: 5 }),
      log: silentLogger,
      testLog,
      workerLogs: false
    }).pipe(Effect.scoped)
  )

/**
 * The driver starts the trainers without waiting for the evaluator thread to build its test nets (they
 * would otherwise wait ≈ 0.4 s): a test net that cannot be built must still end the run, with its error.
 */
describe("the center's evaluator, started beside the trainers", () => {
  it("ends a run whose test net cannot be built with the evaluator's error, instead of training on", async () => {
    const started = Date.now()
    const exit = await run("broken.prototxt")
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
    expect(Option.getOrUndefined(error)).toMatchObject({ _tag: "EvaluatorError", message: expect.stringContaining("'NoSuchLayer'") })
    // It names the files, not only the layer.
    expect(Option.getOrUndefined(error)?.message).toMatch(/^broken\.prototxt: test net broken-test\.prototxt: layer 'loss': type 'NoSuchLayer'/)
    // 1,000,000 iterations per worker would take minutes: the failure stopped the trainers.
    expect(Date.now() - started).toBeLessThan(60_000)
  }, 120_000)

  it("tests the center once it is ready, though the trainers started first", async () => {
    const lines: string[] = []
    const exit = await run("ok.prototxt", (l) => lines.push(l))
    expect(Exit.isSuccess(exit)).toBe(true)
    if (Exit.isSuccess(exit)) expect(exit.value.finalTest?.[0]?.outputs.length).toBeGreaterThan(0)
    expect(lines.some((l) => /Test net output #0: loss = /.test(l))).toBe(true)
  }, 120_000)
})
