import { readSolverPrototxtSync } from "@deepspark/caffe"
import {
  chooseBackend,
  createTrainingSession,
  loadWeights,
  NonFiniteLossError,
  openGpuDevice,
  ResidentSolverNet,
  type Logger,
  type TrainingSession
} from "@deepspark/engine"
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { PermanentWorkerError } from "./permanent-error.js"
import { flattenParams, paramCountOf, unflattenParams } from "../model/flat-params.js"
import { workerSolverParam } from "../model/train-only-solver.js"
import { lrScaleAt } from "../easgd/settings.js"
import type { LocalTrainer } from "./local-trainer.js"
import { registerTrainerBuilder } from "./build-trainer.js"
import { workerLog } from "./worker-log-file.js"
import { decodeInputSync } from "../transport/decode-input.js"

/** The cursor the center keeps for this worker: JSON of the session's data cursors (layer → cursor). */
const DataCursors = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.String }))

/**
 * The "caffe" trainer kind: a Caffe solver (any of SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam,
 * with its lr policy, momentum, decay, clipping, iter_size) training the solver's train net on one
 * partition of its Data layers. Parameters are exchanged as one flat vector in learnable-parameter
 * order. The cursor is the partition position of every Data layer, so a restarted worker continues
 * exactly where its last exchange left it.
 */
registerTrainerBuilder("caffe", async (spec, partition) => {
  if (spec.kind !== "caffe") throw new Error("caffe builder: wrong spec")
  const cwd = spec.workingDirectory ?? process.cwd()
  const workerId = `worker ${partition.index}`
  const ownLog = workerLog({
    ...(spec.logFile !== undefined ? { file: path.resolve(cwd, spec.logFile) } : {}),
    ...(spec.verbose ? { echo: (line: string) => void process.stderr.write(`[${workerId}] ${line}\n`) } : {})
  })
  const log: Logger = ownLog.log
  // A missing or unparsable solver, or an unknown backend, is a configuration error: no restart helps.
  const permanent = (e: unknown): never => {
    throw new PermanentWorkerError(`${workerId}: ${e instanceof Error ? e.message : String(e)}`)
  }
  // `gpu` / `gpu:0,1`: device-resident training on one of these GPUs (worker i on the i-th, round robin);
  // the host net then runs only the source layers, on the cpu kernels.
  const gpus = spec.backend === "gpu" ? [0] : spec.backend?.startsWith("gpu:") ? spec.backend.slice(4).split(",").map(Number) : undefined
  const backend = await chooseBackend(gpus ? "cpu" : spec.backend, log).catch(permanent)
  const device = gpus ? await openGpuDevice(gpus[partition.index % gpus.length]!, log).catch(permanent) : undefined
  let base: ReturnType<typeof readSolverPrototxtSync>
  try {
    base = readSolverPrototxtSync(path.resolve(cwd, spec.solverPath))
  } catch (e) {
    return permanent(e)
  }
  const override: { type?: string; momentum?: number } = {}
  if (spec.solverType !== undefined) override.type = spec.solverType
  if (spec.momentum !== undefined) override.momentum = spec.momentum
  const seeded = spec.seed !== undefined ? { ...base, random_seed: spec.seed } : base
  const solverParam = workerSolverParam(seeded, partition.index, override)

  // Learning-rate scaling for N workers: the solver's own lr (policy and all) times the factor at the
  // iteration being updated, so Caffe's `lr = …` log lines show the rate actually used.
  const scaleLearningRate = (s: TrainingSession) => {
    const factor = spec.lrScale ?? 1
    if (factor === 1) return
    const warmup = spec.lrWarmup ?? 0
    const updater = s.solver.updater
    const base = updater.learningRate.bind(updater)
    updater.learningRate = (iter: number) => base(iter) * lrScaleAt({ lrScaling: "linear", lrWarmup: warmup }, factor, iter)
  }
  const open = async (dataCursors?: Record<string, string>, records?: { from: number; to: number }) => {
    const s = await createTrainingSession({
      solverParam,
      cwd,
      backend,
      ...(device ? { device } : {}),
      log,
      partition: { index: partition.index, count: partition.count, ...(records ? { records } : {}) },
      ...(dataCursors ? { dataCursors } : {}),
      ...(spec.stagedData ? { stagedData: spec.stagedData } : {})
    })
    if (spec.weights) loadWeights(s, spec.weights.split(","), log, cwd)
    scaleLearningRate(s)
    return s
  }
  // A worker that cannot even build its net on its partition (missing or short database, bad
  // prototxt) will not do better after a restart: that stops the run.
  let session: TrainingSession = await open().catch((e: unknown) => {
    throw new PermanentWorkerError(`${workerId}: ${e instanceof Error ? e.message : String(e)}`)
  })
  // Placement is checked, not assumed: prove this worker can read its partition of every Data layer
  // (count, first and last key) before it trains; a failure stops the run, naming worker and partition.
  const { verifyPartitionSource } = await import("@deepspark/data")
  for (const { layer, source } of session.dataPartitions()) {
    const manifest = await Effect.runPromise(verifyPartitionSource(source, workerId)).catch((e: unknown) => {
      throw new PermanentWorkerError(e instanceof Error ? e.message : String(e))
    })
    log.info(`${workerId}: Data layer "${layer}" partition ${partition.index}/${partition.count}: ${manifest.count} records, keys ${manifest.firstKey} … ${manifest.lastKey} (verified)`)
  }
  const params = () => session.solver.trainNet.learnableParams()
  const count = paramCountOf(params())
  // On the GPU the parameters live in one device arena, in the same learnable-parameter order: an
  // exchange is one copy each way.
  const resident = () => (session.solver.trainNet as ResidentSolverNet).resident
  /** One iteration on the device: the solver awaits the device's loss. */
  const deviceStep = async (): Promise<number> => {
    const solver = session.solver
    try {
      // One iteration of one long Step, as on the cpu: the log's iter/s and smoothed loss span the exchanges.
      await solver.stepContinuingAsync()
    } catch (e) {
      if (e instanceof NonFiniteLossError) return e.loss
      throw e
    }
    return solver.iterationLosses[solver.iterationLosses.length - 1] ?? NaN
  }
  // Elastic runs: the training set's size (every Data layer of the train net must hold as many records:
  // they are read in step) and how far the current assignment has been read.
  const sizes = session.dataPartitions().map((p) => p.source.databaseSize)
  const readOf = (s: TrainingSession): number => {
    const first = s.dataPartitions()[0]
    if (!first) return 0
    const at = first.source.position()
    return at.epoch * first.source.records.size + at.position
  }
  return {
    paramCount: count,
    readParams: (out) => (device ? resident().readParams().then((x) => out.set(x)) : flattenParams(params(), out)),
    writeParams: (x) => (device ? resident().writeParams(x) : unflattenParams(params(), x)),
    step: () => {
      if (device) return deviceStep()
      const solver = session.solver
      try {
        // One iteration of one long Step: the log's iter/s and smoothed loss span the exchanges.
        solver.stepContinuing()
      } catch (e) {
        // A loss that blew up is the center's business (it resets the worker from x̃), not a crash.
        if (e instanceof NonFiniteLossError) return e.loss
        throw e
      }
      return solver.iterationLosses[solver.iterationLosses.length - 1] ?? NaN
    },
    get iteration() {
      return session.solver.iter
    },
    setIteration: (i) => {
      session.solver.iter = i
    },
    cursor: () => {
      const c = session.dataCursors()
      return c ? JSON.stringify(c) : null
    },
    restoreCursor: async (c) => {
      if (c === null) return
      const previous = session
      session = await open(decodeInputSync(DataCursors, "the center's resume cursor")(c))
      await previous.close()
    },
    resetHistory: () => {
      if (device) resident().recordClearHistory()
      for (const h of session.solver.updater.history) h.fill(0)
    },
    started: ({ resumeIteration }) => {
      // A log file that cannot be written is reported, not a reason to stop training.
      try {
        ownLog.start(resumeIteration === 0)
      } catch (e) {
        process.stderr.write(`${workerId}: cannot write its log ${spec.logFile}: ${e instanceof Error ? e.message : String(e)}\n`)
      }
      log.info(`Solving ${session.solver.trainNet.name}`)
      log.info(`Learning Rate Policy: ${session.solver.param.lr_policy ?? ""}`)
    },
    // Not on the GPU: its parameters and solver history live on the device, which a new range's net
    // would not carry over.
    ...(!device && sizes.length > 0 && sizes.every((n) => n === sizes[0])
      ? {
          elastic: {
            records: sizes[0]!,
            // Another range: the net is rebuilt on it, carrying over its parameters, iteration and
            // solver history, so training goes on exactly as before with other records.
            assign: async (r: { readonly from: number; readonly to: number }) => {
              const x = new Float32Array(count)
              flattenParams(params(), x)
              const previous = session
              const next = await open(undefined, { from: r.from, to: r.to })
              unflattenParams(next.solver.trainNet.learnableParams(), x)
              next.solver.iter = previous.solver.iter
              const history = previous.solver.updater.history
              next.solver.updater.history.forEach((h, i) => h.set(history[i]!))
              session = next
              await previous.close()
            },
            read: () => readOf(session)
          }
        }
      : {})
  } satisfies LocalTrainer
})
