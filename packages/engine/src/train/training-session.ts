import { randomInt } from "node:crypto"
import fs from "node:fs"
import path from "node:path"
import {
  printPrototxt,
  readCaffemodelSync,
  readNetPrototxtSync,
  readSolverPrototxtSync,
  readSolverStateSync,
  resolveSolverNets,
  type NetParameter,
  type SolverParameter
} from "@deepspark/caffe"
import type { Backend } from "../backend/backend.js"
import type { GpuContext } from "../backend/webgpu/gpu-context.js"
import { refuseUnsupportedSolver } from "../backend/webgpu/resident-net.js"
import { ResidentSolverNet } from "../backend/webgpu/resident-solver-net.js"
import { updateSettingsFrom } from "../solvers/update-settings.js"
import type { LayerServices } from "../core/layer.js"
import { Rng } from "../core/rng.js"
import { DATA_SOURCE_FACTORY } from "../layers/data.js"
import { openNetDataSources, type NetDataSources } from "../net/data-sources.js"
import { openFileDataService } from "../net/file-data-service.js"
import { openPartitionNetDataSources } from "../net/partition-data-sources.js"
import type { PartitionBatchSource } from "@deepspark/data"
import { Net } from "../net/net.js"
import type { Logger } from "./logger.js"
import { silentLogger } from "./logger.js"
import { NetSolverAdapter } from "./net-adapter.js"
import { fileSnapshotStore } from "./snapshot-store.js"
import { Solver, type SnapshotStore, type SolverAction } from "./solver.js"

export interface TrainingSessionOptions {
  /** The solver prototxt (read and upgraded as Caffe does) … */
  readonly solverFile?: string
  /** … or an already-read solver parameter. */
  readonly solverParam?: SolverParameter
  /** Folder that relative net, data and snapshot paths resolve against (Caffe: the working directory). */
  readonly cwd?: string
  readonly backend?: Backend
  /**
   * Train and test on this GPU with device-resident tensors (`--backend gpu`): the nets are built on the
   * host (`backend` runs their source layers) and every other layer runs on the device.
   */
  readonly device?: GpuContext
  readonly log?: Logger
  readonly requestedAction?: () => SolverAction
  readonly snapshots?: SnapshotStore
  /** Command-line overrides: max_iter (`-iterations`), train_state level and stages (`-level`, `-stage`). */
  readonly maxIter?: number
  readonly level?: number
  readonly stages?: ReadonlyArray<string>
  /** Layer services to use instead of opening the Data layers' databases (tests, in-memory feeds). */
  readonly services?: LayerServices
  /**
   * Train on one partition of the train net's Data layers (a distributed worker), optionally resuming
   * from saved cursors (by Data layer name, as returned by `dataCursors()`). Test nets read everything.
   */
  readonly partition?: { readonly index: number; readonly count: number; readonly records?: { readonly from: number; readonly to: number } }
  readonly dataCursors?: Readonly<Record<string, string>>
  /**
   * With `partition`: train-net Data layers whose partition was staged into an LMDB of its own (layer
   * name → path, relative to cwd); they read it whole, with the same cursors as a direct read.
   */
  readonly stagedData?: Readonly<Record<string, string>>
}

/** A solver with its nets built and data sources open; `close` releases the databases. */
export interface TrainingSession {
  readonly param: SolverParameter
  readonly solver: Solver
  readonly trainNet: Net
  readonly testNets: ReadonlyArray<Net>
  readonly seed: number
  /** With `partition`: each train-net Data layer's resume point (JSON) by layer name. */
  dataCursors(): Record<string, string> | undefined
  /** With `partition`: the train net's partitioned Data sources (for placement verification). */
  dataPartitions(): ReadonlyArray<{ readonly layer: string; readonly source: PartitionBatchSource }>
  close(): Promise<void>
}

/**
 * Caffe's Solver::Init for a solver file: read and upgrade the solver, seed the random source from
 * `random_seed`, build the train net and the test nets for their NetStates (opening their Data
 * layers' databases), and wrap them in the training loop. Logs Caffe's set-up lines.
 */
export const createTrainingSession = async (options: TrainingSessionOptions): Promise<TrainingSession> => {
  const log = options.log ?? silentLogger
  const cwd = options.cwd ?? process.cwd()
  let param: SolverParameter
  if (options.solverParam) param = options.solverParam
  else if (options.solverFile) param = readSolverPrototxtSync(path.resolve(cwd, options.solverFile))
  else throw new Error("createTrainingSession: give solverFile or solverParam")
  param = withOverrides(param, options, cwd)
  log.info(`Initializing solver from parameters: \n${printPrototxt("SolverParameter", param)}`)

  const seed = (param.random_seed ?? -1) >= 0 ? param.random_seed! : randomInt(0, 2 ** 31)
  const rng = new Rng(seed)
  const nets = resolveSolverNets(param, { readNet: (f) => readNetPrototxtSync(f), cwd })
  const opened: NetDataSources[] = []
  let cursors: (() => Record<string, string>) | undefined
  let partitions: ReadonlyArray<{ readonly layer: string; readonly source: PartitionBatchSource }> = []
  const build = async (net: NetParameter, state: NetParameter["state"], partitioned = false): Promise<Net> => {
    let services = options.services
    if (!services) {
      const base = { ...(state ? { state } : {}), rng, baseDir: cwd }
      let sources: NetDataSources
      if (partitioned && options.partition) {
        const p = await openPartitionNetDataSources(net, {
          ...base,
          partition: {
            index: options.partition.index,
            count: options.partition.count,
            mode: "range",
            ...(options.partition.records ? { records: options.partition.records } : {})
          },
          ...(options.dataCursors ? { cursors: options.dataCursors } : {}),
          ...(options.stagedData ? { staged: options.stagedData } : {}),
          worker: `worker ${options.partition.index}`
        })
        cursors = p.cursors
        partitions = p.partitionSources
        sources = p
      } else sources = await openNetDataSources(net, base)
      opened.push(sources)
      // ImageData / HDF5Data / HDF5Output read their files through this service.
      const fileData = await openFileDataService(net, { ...(state ? { state } : {}), baseDir: cwd })
      services = { [DATA_SOURCE_FACTORY]: sources.factory, ...fileData.services }
    }
    return new Net(net, {
      ...(state ? { state } : {}),
      rng,
      services,
      ...(options.backend ? { backend: options.backend } : {})
    })
  }
  try {
    log.info(describeSource("Creating training net", nets.train.source))
    const trainNet = await build(nets.train.net, nets.train.state, true)
    const testNets: Net[] = []
    for (const t of nets.test) {
      log.info(`Creating test net (#${t.index}) specified by ${t.source}`)
      testNets.push(await build(t.net, t.state))
    }
    const device = options.device
    if (device) refuseUnsupportedSolver(updateSettingsFrom(param))
    const adapt = (n: Net) => {
      if (!device) return new NetSolverAdapter(n, log)
      // Built now, so a layer the device lacks is refused at start-up, named, not at the first iteration.
      const resident = new ResidentSolverNet(device, n, log)
      void resident.resident
      return resident
    }
    const solver = new Solver({
      param,
      trainNet: adapt(trainNet),
      testNets: testNets.map(adapt),
      log,
      snapshots: options.snapshots ?? fileSnapshotStore,
      ...(options.requestedAction ? { requestedAction: options.requestedAction } : {})
    })
    log.info("Solver scaffolding done.")
    return {
      param,
      solver,
      trainNet,
      testNets,
      seed,
      dataCursors: () => cursors?.(),
      dataPartitions: () => partitions,
      close: async () => void (await Promise.all(opened.map((o) => o.close())))
    }
  } catch (e) {
    await Promise.all(opened.map((o) => o.close()))
    throw e
  }
}

const describeSource = (what: string, source: string): string =>
  source.includes("file:") ? `${what} from ${source}` : `${what} specified in ${source}.`

const withOverrides = (p: SolverParameter, o: TrainingSessionOptions, cwd: string): SolverParameter => {
  const out: SolverParameter = { ...p }
  if (o.maxIter !== undefined) out.max_iter = o.maxIter
  if (o.level !== undefined || (o.stages && o.stages.length > 0)) {
    const state = { ...(out.train_state ?? {}) }
    if (o.level !== undefined) state.level = o.level
    if (o.stages && o.stages.length > 0) state.stage = [...(state.stage ?? []), ...o.stages]
    out.train_state = state
  }
  // Snapshot files go where Caffe would put them when run from `cwd`.
  if (out.snapshot_prefix !== undefined && !path.isAbsolute(out.snapshot_prefix) && path.resolve(cwd) !== process.cwd()) {
    out.snapshot_prefix = path.join(cwd, out.snapshot_prefix)
  }
  return out
}

/**
 * Fine-tuning (`-weights a.caffemodel[,b.caffemodel]`): copies layers by name from each file into the
 * train net and every test net, as Caffe's CopyLayers does.
 */
export const loadWeights = (
  session: TrainingSession,
  files: ReadonlyArray<string>,
  log: Logger = silentLogger,
  cwd = process.cwd()
): void => {
  for (const file of files) {
    log.info(`Finetuning from ${file}`)
    const weights = readCaffemodelSync(path.resolve(cwd, file))
    session.solver.trainNet.copyTrainedLayersFrom(weights, file)
    for (const t of session.solver.testNets) t.copyTrainedLayersFrom(weights, file)
  }
}

/**
 * Resume (`-snapshot X.solverstate`): iteration, current_step and history from the state, weights from
 * its learned_net (as written, i.e. relative to the working directory, else next to the state file).
 */
export const resumeFrom = (session: TrainingSession, stateFile: string, log: Logger = silentLogger, cwd = process.cwd()): void => {
  log.info(`Resuming from ${stateFile}`)
  log.info(`Restoring previous solver status from ${stateFile}`)
  if (stateFile.endsWith(".h5")) {
    throw new Error(`${stateFile}: HDF5 solver states are not supported by deepspark; resume from a binary .solverstate`)
  }
  const state = readSolverStateSync(path.resolve(cwd, stateFile))
  let weights: NetParameter | undefined
  if (state.learned_net !== undefined && state.learned_net !== "") {
    const candidates = [path.resolve(cwd, state.learned_net), path.join(path.dirname(path.resolve(cwd, stateFile)), path.basename(state.learned_net))]
    const found = candidates.find((c) => fs.existsSync(c))
    if (!found) throw new Error(`${stateFile}: its learned_net ${state.learned_net} does not exist (looked in ${candidates.join(", ")})`)
    weights = readCaffemodelSync(found)
  }
  session.solver.restore(state, weights, stateFile)
}
