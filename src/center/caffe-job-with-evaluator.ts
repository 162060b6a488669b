import { GlogLogger } from "@deepspark/engine"
import { Effect, Exit, Scope } from "effect"
import type { CenterJob } from "./center-job.js"
import { openCenterJob } from "./caffe-job.js"
import { defaultEvaluatorNiceness, makeEvaluator } from "./evaluator.js"

/** What `deepspark center -solver S …` asks for. */
export interface CaffeCenterJobRequest {
  readonly solverPath: string
  readonly weights?: string
  readonly backend?: string
  readonly log: (line: string) => void
}

/**
 * `deepspark center -solver S`: a Caffe solver as the center process's job — x̃ in the train net's
 * layout (fillers with random_seed, or -weights), tested on the solver's test nets in an evaluator
 * thread, written as .caffemodel checkpoints under the solver's snapshot_prefix. Paths resolve from the
 * working directory, as in Caffe. (runDistributedTrain opens the same job and runs its own evaluator,
 * which counts iterations rather than exchanges.)
 */
export const caffeCenterJob = async (request: CaffeCenterJobRequest): Promise<CenterJob> => {
  const cwd = process.cwd()
  const job = await openCenterJob({
    solverFile: request.solverPath,
    cwd,
    ...(request.weights ? { weights: request.weights } : {}),
    log: new GlogLogger((line) => request.log(line))
  })
  const hasTests = (job.solver.test_iter ?? []).length > 0
  if (!hasTests) return job
  // The evaluator thread lives until the job is closed (CenterJob.close, called by the center command).
  const scope = Effect.runSync(Scope.make())
  const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
  const evaluator = await Effect.runPromise(
    Scope.extend(makeEvaluator({ solverPath: request.solverPath, cwd, niceness: defaultEvaluatorNiceness, ...(request.backend ? { backend: request.backend } : {}) }, request.log), scope)
  ).catch(async (e: unknown) => {
    await close()
    throw e
  })
  return {
    ...job,
    evaluate: (x: Float32Array, exchanges: number) => Effect.runPromise(evaluator.test(x, exchanges)).then((r) => ({ outputs: r[0]?.outputs ?? [] })),
    close
  }
}
