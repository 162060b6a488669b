import { readCaffemodelSync, readSolverPrototxtSync, writeCaffemodelSync, type SolverParameter } from "@deepspark/caffe"
import { chooseBackend, createTrainingSession, loadWeights, silentLogger, type Logger, type TrainingSession } from "@deepspark/engine"
import * as fs from "node:fs"
import * as path from "node:path"
import type { CenterJob } from "./center-job.js"
import { flattenParams, paramCountOf, unflattenParams } from "../model/flat-params.js"
import { trainOnlySolverParam } from "../model/train-only-solver.js"

/**
 * A Caffe solver as a CenterJob, in the main thread: the solver's train net built once as the layout of
 * x̃ (its initial weights come from the solver's fillers and random_seed, or from -weights), and the
 * writer that turns x̃ into a Caffe `.caffemodel` (read back by layer name, Caffe's shape rule).
 * Checkpoints (`.caffemodel` + `.dsstate`) go through ../center/center-checkpoint.ts. It does not test
 * x̃ itself: the runs test in an evaluator thread (./evaluator.ts).
 */
export interface CaffeCenterJob extends CenterJob {
  readonly solver: SolverParameter
  writeModel(x: Float32Array, file: string): Promise<void>
  readModel(file: string): Promise<Float32Array>
  close(): Promise<void>
}

export const openCenterJob = async (options: {
  readonly solverFile: string
  readonly cwd: string
  readonly weights?: string
  readonly log?: Logger
  /** The train net's Data layers read this staged LMDB (layer name → path) instead of their sources. */
  readonly stagedData?: Readonly<Record<string, string>>
}): Promise<CaffeCenterJob> => {
  const log = options.log ?? silentLogger
  const solver = readSolverPrototxtSync(path.resolve(options.cwd, options.solverFile))
  const backend = await chooseBackend("reference")
  const session: TrainingSession = await createTrainingSession({
    solverParam: trainOnlySolverParam(solver),
    cwd: options.cwd,
    backend,
    log: silentLogger,
    // Data given in code: the layout net reads the first partition's copy (its sources need not exist).
    ...(options.stagedData ? { partition: { index: 0, count: 1 }, stagedData: options.stagedData } : {})
  })
  if (options.weights) loadWeights(session, options.weights.split(","), log, options.cwd)
  const net = session.solver.trainNet
  const params = net.learnableParams()
  const count = paramCountOf(params)
  const current = (): Float32Array => {
    const x = new Float32Array(count)
    flattenParams(params, x)
    return x
  }
  return {
    description: `${options.solverFile} (${count} parameters)`,
    solver,
    paramCount: count,
    initialParams: current,
    modelExtension: ".caffemodel",
    writeModel: async (x, file) => {
      unflattenParams(params, x)
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
      writeCaffemodelSync(file, net.toProto(false))
    },
    readModel: async (file) => {
      net.copyTrainedLayersFrom(readCaffemodelSync(file), file)
      return current()
    },
    ...(solver.snapshot_prefix !== undefined ? { defaultCheckpointPrefix: path.resolve(options.cwd, solver.snapshot_prefix) } : {}),
    close: () => session.close()
  }
}
