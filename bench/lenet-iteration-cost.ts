import { chooseBackend, createTrainingSession } from "@deepspark/engine"
import * as path from "node:path"
import { median } from "./accuracy/median.js"
import { prepareMnistWorkspace } from "./accuracy/mnist-workspace.js"

/**
 * Seconds one training iteration of Caffe's LeNet (batch 64, real MNIST from its LMDB, forward +
 * backward + SGD update) takes on this machine now: the median of `iterations` single steps after
 * `warmUp` steps, one solver on one thread, as a worker runs it.
 */
export const measureLenetIterationSeconds = async (
  repoRoot: string,
  options: { readonly iterations?: number; readonly warmUp?: number; readonly backend?: string } = {}
): Promise<number> => {
  const ws = await prepareMnistWorkspace(path.join(repoRoot, "out/bench-accuracy"), repoRoot, 1_000_000)
  const session = await createTrainingSession({ solverFile: ws.solverFor(1701), cwd: ws.dir, backend: await chooseBackend(options.backend ?? "cpu") })
  try {
    for (let i = 0; i < (options.warmUp ?? 5); i++) session.solver.step(1)
    const times: number[] = []
    for (let i = 0; i < (options.iterations ?? 30); i++) {
      const t0 = performance.now()
      session.solver.step(1)
      times.push((performance.now() - t0) / 1000)
    }
    return median(times)!
  } finally {
    await session.close()
  }
}
