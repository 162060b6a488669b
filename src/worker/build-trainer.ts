import type { LocalTrainer } from "./local-trainer.js"
import type { TrainerSpec } from "./trainer-spec.js"

/** Builders for each trainer kind; the "caffe" kind is registered by the engine integration. */
export type TrainerBuilder = (spec: TrainerSpec, partition: { index: number; count: number }) => Promise<LocalTrainer>

const builders = new Map<TrainerSpec["kind"], TrainerBuilder>()

export const registerTrainerBuilder = (kind: TrainerSpec["kind"], builder: TrainerBuilder): void => {
  builders.set(kind, builder)
}

// The simulator's problem is loaded only by runs that ask for it (tests, benchmarks, --synthetic),
// never by a Caffe worker.
registerTrainerBuilder("softmax-problem", async (spec, partition) => {
  if (spec.kind !== "softmax-problem") throw new Error("wrong spec")
  const [{ Rng }, { softmaxRegressionProblem }, { problemTrainer }] = await Promise.all([
    import("@deepspark/engine"),
    import("../simulator/problem.js"),
    import("../simulator/problem-trainer.js")
  ])
  const problem = softmaxRegressionProblem({ seed: spec.problemSeed, separation: 0.6 }, (s) => new Rng(s))
  const trainer = problemTrainer(problem, partition.index, partition.count, new Rng(spec.seed + partition.index))
  const ms = spec.iterationMs ?? 0
  if (ms <= 0) return trainer
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  const step = trainer.step
  return Object.assign(trainer, {
    step: () => {
      Atomics.wait(sleeper, 0, 0, ms)
      return step()
    }
  })
})

export const buildTrainer = async (spec: TrainerSpec, partition: { index: number; count: number }): Promise<LocalTrainer> => {
  const builder = builders.get(spec.kind)
  if (!builder) throw new Error(`no trainer builder for kind "${spec.kind}"`)
  return builder(spec, partition)
}
