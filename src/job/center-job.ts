import {
  readCaffemodelSync,
  readSolverPrototxtSync,
  writeCaffemodelSync,
  writeFileAtomicSync,
  type SolverParameter
} from "@deepspark/caffe"
import { chooseBackend, createTrainingSession, loadWeights, silentLogger, type Logger, type TrainingSession } from "@deepspark/engine"
import * as fs from "node:fs"
import * as path from "node:path"
import type { CenterCheckpointState } from "../center/center-state.js"
import { flattenParams, paramCountOf, unflattenParams } from "./flat-params.js"
import { trainOnlySolverParam } from "./worker-solver.js"

/**
 * The center's side of a Caffe job, in the main thread: the solver's train net built once as the
 * layout of x̃ (its initial weights come from the solver's fillers and random_seed, or from -weights),
 * and the writer that turns x̃ into a Caffe `.caffemodel` plus deepspark's `.dsstate` bookkeeping.
 */
export interface CenterJob {
  readonly solver: SolverParameter
  readonly paramCount: number
  initialParams(): Float32Array
  /** Writes x̃ as a Caffe model (the train net's layout) to `file`, atomically. */
  writeModel(x: Float32Array, file: string): void
  /** Reads x̃ back from a caffemodel of this net (copied by layer name, Caffe's shape rule). */
  readModel(file: string): Float32Array
  /** Writes `<base>.caffemodel` (x̃ in the train net's layout) and `<base>.dsstate`, atomically. */
  writeCheckpoint(x: Float32Array, state: CenterCheckpointState, base: string): { caffemodel: string; dsstate: string }
  /** Reads a checkpoint back: x̃ from the caffemodel beside the state file. */
  readCheckpoint(dsstateFile: string): { x: Float32Array; state: CenterCheckpointState; caffemodel: string }
  close(): Promise<void>
}

export class CheckpointError extends Error {
  readonly _tag = "CheckpointError"
  constructor(
    readonly file: string,
    detail: string
  ) {
    super(`${file}: ${detail}`)
    this.name = "CheckpointError"
  }
}

export const openCenterJob = async (options: {
  readonly solverFile: string
  readonly cwd: string
  readonly weights?: string
  readonly log?: Logger
}): Promise<CenterJob> => {
  const log = options.log ?? silentLogger
  const solver = readSolverPrototxtSync(path.resolve(options.cwd, options.solverFile))
  const backend = await chooseBackend("reference")
  const session: TrainingSession = await createTrainingSession({ solverParam: trainOnlySolverParam(solver), cwd: options.cwd, backend, log: silentLogger })
  if (options.weights) loadWeights(session, options.weights.split(","), log, options.cwd)
  const net = session.solver.trainNet
  const params = net.learnableParams()
  const count = paramCountOf(params)
  const writeModel = (x: Float32Array, file: string): void => {
    unflattenParams(params, x)
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    writeCaffemodelSync(file, net.toProto(false))
  }
  const readModel = (file: string): Float32Array => {
    net.copyTrainedLayersFrom(readCaffemodelSync(file), file)
    const x = new Float32Array(count)
    flattenParams(params, x)
    return x
  }
  return {
    solver,
    paramCount: count,
    initialParams: () => {
      const x = new Float32Array(count)
      flattenParams(params, x)
      return x
    },
    writeModel,
    readModel,
    writeCheckpoint: (x, state, base) => {
      const caffemodel = `${base}.caffemodel`
      const dsstate = `${base}.dsstate`
      writeModel(x, caffemodel)
      writeFileAtomicSync(dsstate, JSON.stringify({ ...state, caffemodel: path.basename(caffemodel) }, null, 2) + "\n")
      return { caffemodel, dsstate }
    },
    readCheckpoint: (file) => {
      let raw: { caffemodel?: string } & CenterCheckpointState
      try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"))
      } catch (e) {
        throw new CheckpointError(file, `cannot read the center state (${(e as Error).message})`)
      }
      if (raw.format !== "deepspark-center/1") throw new CheckpointError(file, `not a deepspark center state (format ${JSON.stringify(raw.format)})`)
      const caffemodel = path.join(path.dirname(file), raw.caffemodel ?? path.basename(file).replace(/\.dsstate$/, ".caffemodel"))
      if (!fs.existsSync(caffemodel)) throw new CheckpointError(file, `its center weights ${caffemodel} do not exist`)
      return { x: readModel(caffemodel), state: raw, caffemodel }
    },
    close: () => session.close()
  }
}
