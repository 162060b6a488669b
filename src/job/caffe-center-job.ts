import { GlogLogger } from "@deepspark/engine"
import { Effect, Scope } from "effect"
import * as path from "node:path"
import { registerCaffeCenterJob, type CenterJob } from "../remote/center-job.js"
import { openCenterJob } from "./center-job.js"
import { makeEvaluator } from "./evaluator.js"

/**
 * `deepspark center -solver S`: a Caffe solver as the center process's job — x̃ in the train net's
 * layout (fillers with random_seed, or -weights), tested on the solver's test nets in an evaluator
 * thread, written as .caffemodel checkpoints under the solver's snapshot_prefix.
 */
registerCaffeCenterJob(async (request) => {
  const cwd = process.cwd()
  const job = await openCenterJob({
    solverFile: request.solverPath,
    cwd,
    ...(request.weights ? { weights: request.weights } : {}),
    log: new GlogLogger((line) => request.log(line))
  })
  const hasTests = (job.solver.test_iter ?? []).length > 0
  // The evaluator thread lives as long as the center process.
  const scope = Effect.runSync(Scope.make())
  const evaluator = hasTests
    ? await Effect.runPromise(
        Scope.extend(makeEvaluator({ solverPath: request.solverPath, cwd, ...(request.backend ? { backend: request.backend } : {}) }, request.log), scope)
      )
    : undefined
  const prefix = job.solver.snapshot_prefix
  const centerJob: CenterJob = {
    description: `${request.solverPath} (${job.paramCount} parameters)`,
    paramCount: job.paramCount,
    initialParams: () => job.initialParams(),
    ...(evaluator
      ? {
          evaluate: (x: Float32Array, exchanges: number) =>
            Effect.runPromise(evaluator.test(x, exchanges)).then((r) => ({ outputs: r[0]?.outputs ?? [] }))
        }
      : {}),
    modelExtension: ".caffemodel",
    writeModel: async (x, file) => job.writeModel(x, file),
    readModel: async (file) => job.readModel(file),
    ...(prefix !== undefined ? { defaultCheckpointPrefix: path.resolve(cwd, prefix) } : {})
  }
  return centerJob
})
