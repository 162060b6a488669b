import fs from "node:fs"
import path from "node:path"
import type { BlobProto, NetParameter, SolverParameter, SolverState } from "@deepspark/caffe"
import { SolverConfigError, SolverStateError } from "../solvers/errors.js"
import { createUpdateSolver } from "../solvers/create-solver.js"
import type { SolverBase } from "../solvers/solver-base.js"
import { updateSettingsFrom } from "../solvers/update-settings.js"
import { NonFiniteLossError, SnapshotError } from "./errors.js"
import { formatG } from "./format-g.js"
import type { Logger } from "./logger.js"
import { silentLogger } from "./logger.js"
import type { SolverNet } from "./solver-net.js"

const f32 = Math.fround

/** Caffe's SolverAction: what a signal (or the runtime) asks the running solver to do. */
export type SolverAction = "none" | "snapshot" | "stop"

/** Where snapshots go. Both writes must be atomic: a failed or interrupted write leaves no file. */
export interface SnapshotStore {
  writeModel(file: string, net: NetParameter): void
  writeState(file: string, state: SolverState): void
}

export interface SolverOptions {
  /** The solver parameter (upgraded, snapshot_prefix resolved). */
  readonly param: SolverParameter
  readonly trainNet: SolverNet
  /** One per test_iter entry, in Caffe's order (test_net_param, test_net, then net/net_param copies). */
  readonly testNets?: ReadonlyArray<SolverNet>
  readonly log?: Logger
  /** Required when a snapshot will be written (snapshot > 0 or snapshot_after_train). */
  readonly snapshots?: SnapshotStore
  /** Polled after every iteration and before every test batch (Caffe's GetRequestedAction). */
  readonly requestedAction?: () => SolverAction
  /** Milliseconds, for the iter/s figures; defaults to performance.now(). */
  readonly clock?: () => number
}

/**
 * Caffe's Solver: Step / Solve / Test / Snapshot / Restore with Caffe's log lines. The update rule is a
 * `SolverBase` (see ../solvers), which also logs `Iteration N, lr = R`.
 */
export class Solver {
  readonly param: SolverParameter
  readonly trainNet: SolverNet
  readonly testNets: ReadonlyArray<SolverNet>
  readonly updater: SolverBase
  /** Number of parameter updates done (Caffe's iter_). */
  iter = 0
  /** Mean scores of the last test of each test net (Caffe's mean_scores_), in output order. */
  readonly meanScores: number[][] = []
  /** The per-iteration training losses of the last Step (averaged over iter_size), for callers. */
  readonly iterationLosses: number[] = []
  private readonly log: Logger
  private readonly snapshots: SnapshotStore | undefined
  private readonly requestedAction: () => SolverAction
  private readonly clock: () => number
  private requestedEarlyExit = false
  private losses: number[] = []
  private smoothedLoss = 0
  private iterationsLast = 0
  private readonly display: number
  private readonly averageLoss: number
  private readonly testIter: ReadonlyArray<number>
  private readonly testInterval: number

  constructor(options: SolverOptions) {
    const p = options.param
    this.param = p
    this.trainNet = options.trainNet
    this.testNets = options.testNets ?? []
    this.log = options.log ?? silentLogger
    this.snapshots = options.snapshots
    this.requestedAction = options.requestedAction ?? (() => "none")
    this.clock = options.clock ?? (() => performance.now())
    this.display = p.display ?? 0
    this.averageLoss = p.average_loss ?? 1
    this.testIter = p.test_iter ?? []
    this.testInterval = p.test_interval ?? 0
    if (this.averageLoss < 1) throw new SolverConfigError("average_loss", `should be >= 1, got ${this.averageLoss}`)
    if (this.testNets.length !== this.testIter.length) {
      throw new SolverConfigError(
        "test_iter",
        `test_iter must be specified for each test network: ${this.testIter.length} test_iter value(s) for ${this.testNets.length} test net(s)`
      )
    }
    if (this.testNets.length > 0 && !(this.testInterval > 0)) {
      throw new SolverConfigError("test_interval", `must be > 0 when there are test nets, got ${this.testInterval}`)
    }
    this.updater = createUpdateSolver(updateSettingsFrom(p), this.log)
    if (this.trainNet.backend) this.updater.useBackend(this.trainNet.backend)
    this.checkSnapshotSettings()
    this.updater.ensureHistory(this.trainNet.learnableParams())
    for (let i = 0; i < this.testNets.length; i++) this.meanScores.push([])
  }

  private willSnapshot(): boolean {
    return (this.param.snapshot ?? 0) > 0 || (this.param.snapshot_after_train ?? true)
  }

  /** Caffe's CheckSnapshotWritePermissions, plus a clear refusal of the HDF5 format, up front. */
  private checkSnapshotSettings(): void {
    if (!this.willSnapshot()) return
    if ((this.param.snapshot_format ?? "BINARYPROTO") === "HDF5") {
      throw new SnapshotError(
        "snapshot_format: HDF5 is not supported by deepspark (no HDF5 library); use snapshot_format: BINARYPROTO"
      )
    }
    if (this.param.snapshot_prefix === undefined) {
      throw new SnapshotError("In solver params, snapshot is specified but snapshot_prefix is not")
    }
    if (!this.snapshots) throw new SnapshotError("snapshots are configured but no snapshot store was given")
    const probe = this.snapshotFilename(".tempfile")
    try {
      fs.writeFileSync(probe, "")
      fs.rmSync(probe, { force: true })
    } catch {
      throw new SnapshotError(
        `Cannot write to snapshot prefix '${this.param.snapshot_prefix}'. Make sure that the directory ` +
          `${path.dirname(path.resolve(probe))} exists and is writeable.`
      )
    }
  }

  /** Caffe's Solve: Step to max_iter, the final snapshot, display and test, `Optimization Done.` */
  solve(): void {
    drain(this.solveSteps())
  }

  /**
   * `solve` that returns to the event loop after every iteration and test batch, so signals (SIGINT → stop) and other
   * work get through while training runs.
   */
  async solveAsync(): Promise<void> {
    await runAsync(this.solveSteps())
  }

  /** `step` for any net, device-resident ones included: awaits the device between kernels' results. */
  async stepAsync(iters: number): Promise<void> {
    await runAsync(this.stepIterations(iters))
  }

  /** Caffe's Step: `iters` iterations of test / forward-backward / display / update / snapshot. */
  step(iters: number): void {
    drain(this.stepIterations(iters))
  }

  /** The Step that `stepContinuing` advances, and the iteration it stopped at. */
  private continuing: { readonly steps: Steps; at: number } | undefined

  /**
   * One iteration of a Step the caller drives one iteration at a time (a distributed worker, which
   * exchanges parameters between iterations). Unlike `step(1)`, the display's timer, iter/s and smoothed
   * loss carry over from the previous call, so the log reads as Caffe's log of one long Step (its
   * `Iteration N (x iter/s, …), loss = …` lines are what parse_log.py reads). A new Step begins when
   * `iter` was changed from outside since the last call, or the last one ended with an exception.
   * Synchronous nets only, as `step`.
   */
  stepContinuing(): void {
    if (this.continuing === undefined || this.continuing.at !== this.iter)
      this.continuing = { steps: this.stepIterations(Number.MAX_SAFE_INTEGER - this.iter), at: this.iter }
    const current = this.continuing
    const target = this.iter + 1
    try {
      // Test batches also yield: run until the iteration's update is done.
      while (this.iter < target) {
        const r = current.steps.next()
        if (r.done) {
          // Stopped (a requested stop): the next call begins a new Step.
          this.continuing = undefined
          return
        }
        if (r.value instanceof Promise) {
          void r.value.catch(() => undefined)
          throw new Error("this solver's net runs on a device (asynchronous): use stepAsync")
        }
      }
    } catch (e) {
      this.continuing = undefined
      throw e
    }
    current.at = this.iter
  }

  /**
   * `stepContinuing` for any net, device-resident ones included: awaits the device's results, so a
   * distributed worker on the GPU logs one long Step too (iter/s and the smoothed loss across exchanges).
   */
  async stepContinuingAsync(): Promise<void> {
    if (this.continuing === undefined || this.continuing.at !== this.iter)
      this.continuing = { steps: this.stepIterations(Number.MAX_SAFE_INTEGER - this.iter), at: this.iter }
    const current = this.continuing
    const target = this.iter + 1
    try {
      let sent: unknown = undefined
      for (;;) {
        const r = current.steps.next(sent)
        sent = undefined
        if (r.done) {
          this.continuing = undefined
          return
        }
        // A device result is handed back before the iteration may end (a snapshot's read-back follows the update).
        if (r.value instanceof Promise) sent = await r.value
        else if (this.iter >= target) break
      }
    } catch (e) {
      this.continuing = undefined
      throw e
    }
    current.at = this.iter
  }

  private *solveSteps(): Steps {
    this.log.info(`Solving ${this.trainNet.name}`)
    this.log.info(`Learning Rate Policy: ${this.param.lr_policy ?? ""}`)
    this.requestedEarlyExit = false
    const startIter = this.iter
    yield* this.stepIterations((this.param.max_iter ?? 0) - this.iter)
    const snapshot = this.param.snapshot ?? 0
    if ((this.param.snapshot_after_train ?? true) && (!snapshot || this.iter % snapshot !== 0)) {
      yield* this.snapshotSteps()
    }
    if (this.requestedEarlyExit) {
      this.log.info("Optimization stopped early.")
      return
    }
    // One more forward pass only to display the loss after the last update (Caffe does the same).
    if (this.display && this.iter % this.display === 0) {
      const device = this.trainNet.device
      const loss = device ? ((yield device.forward()) as number) : this.trainNet.forward()
      this.updateSmoothedLoss(loss, startIter)
      this.log.info(`Iteration ${this.iter}, loss = ${formatG(this.smoothedLoss)}`)
    }
    if (this.testInterval && this.iter % this.testInterval === 0) yield* this.testAllSteps()
    this.log.info("Optimization Done.")
  }

  /** True when the last solve/step ended because a stop was requested. */
  get stoppedEarly(): boolean {
    return this.requestedEarlyExit
  }

  /** The iterations of Caffe's Step; yields after each update and each test batch. */
  private *stepIterations(iters: number): Steps {
    const startIter = this.iter
    const stopIter = this.iter + iters
    this.losses = []
    this.smoothedLoss = 0
    this.iterationsLast = this.iter
    let timerStart = this.clock()
    const iterSize = this.param.iter_size ?? 1
    while (this.iter < stopIter) {
      this.trainNet.clearParamDiffs()
      if (this.testInterval && this.iter % this.testInterval === 0 && (this.iter > 0 || (this.param.test_initialization ?? true))) {
        yield* this.testAllSteps()
        if (this.requestedEarlyExit) break
      }
      const display = this.display > 0 && this.iter % this.display === 0
      let loss = 0
      const device = this.trainNet.device
      for (let i = 0; i < iterSize; i++) loss = f32(loss + (device ? ((yield device.forwardBackward()) as number) : this.trainNet.forwardBackward()))
      loss = f32(loss / iterSize)
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(this.iter, loss, this.trainNet.name)
      this.iterationLosses.push(loss)
      this.updateSmoothedLoss(loss, startIter)
      if (display) {
        // Caffe's timer counts whole milliseconds.
        const now = this.clock()
        const lapse = f32(Math.floor(now - timerStart) / 1000)
        const perS = f32((this.iter - this.iterationsLast) / (lapse ? lapse : 1))
        this.log.info(
          `Iteration ${this.iter} (${formatG(perS)} iter/s, ${formatG(lapse)}s/${this.display} iters), loss = ${formatG(this.smoothedLoss)}`
        )
        timerStart = now
        this.iterationsLast = this.iter
        this.logOutputs("Train", this.trainNet, (o) => o.values())
      }
      if (device) device.applyUpdate(this.updater, this.updater.rateForUpdate(this.iter), this.iter)
      else this.updater.applyUpdate(this.trainNet.learnableParams(), this.iter)
      this.iter++
      const request = this.requestedAction()
      const snapshot = this.param.snapshot ?? 0
      if ((snapshot && this.iter % snapshot === 0) || request === "snapshot") yield* this.snapshotSteps()
      if (request === "stop") {
        this.requestedEarlyExit = true
        break
      }
      yield this.iter
    }
  }

  private logOutputs(kind: "Train", net: SolverNet, read: (o: ReturnType<SolverNet["outputs"]>[number]) => ArrayLike<number>): void {
    let scoreIndex = 0
    for (const o of net.outputs()) {
      const values = read(o)
      for (let k = 0; k < values.length; k++) {
        const v = values[k]!
        const lossMsg = o.lossWeight ? ` (* ${formatG(o.lossWeight)} = ${formatG(f32(o.lossWeight * v))} loss)` : ""
        this.log.info(`    ${kind} net output #${scoreIndex++}: ${o.name} = ${formatG(v)}${lossMsg}`)
      }
    }
  }

  /** Caffe's UpdateSmoothedLoss: running mean for the first average_loss losses, then a sliding window. */
  private updateSmoothedLoss(loss: number, startIter: number): void {
    const average = this.averageLoss
    if (this.losses.length < average) {
      this.losses.push(loss)
      const size = this.losses.length
      this.smoothedLoss = f32(f32(f32(this.smoothedLoss * (size - 1)) + loss) / size)
    } else {
      const idx = (this.iter - startIter) % average
      this.smoothedLoss = f32(this.smoothedLoss + f32(f32(loss - this.losses[idx]!) / average))
      this.losses[idx] = loss
    }
  }

  /** Tests every test net (stops early when a stop is requested). */
  testAll(): void {
    drain(this.testAllSteps())
  }

  private *testAllSteps(): Steps {
    for (let i = 0; i < this.testNets.length && !this.requestedEarlyExit; i++) yield* this.testSteps(i)
  }

  /** Caffe's Test: test_iter forward passes; each output element's mean over the batches. */
  test(testNetId: number): void {
    drain(this.testSteps(testNetId))
  }

  /** The batches of a test; yields after each forward pass. */
  private *testSteps(testNetId: number): Steps {
    this.log.info(`Iteration ${this.iter}, Testing net (#${testNetId})`)
    const net = this.testNets[testNetId]!
    net.shareTrainedLayersWith(this.trainNet)
    const iterations = this.testIter[testNetId]!
    const scores: number[] = []
    const scoreOutput: number[] = []
    let loss = 0
    const computeLoss = this.param.test_compute_loss ?? false
    for (let i = 0; i < iterations; i++) {
      let request = this.requestedAction()
      while (request !== "none") {
        if (request === "snapshot") yield* this.snapshotSteps()
        else if (request === "stop") this.requestedEarlyExit = true
        request = this.requestedAction()
      }
      if (this.requestedEarlyExit) break
      const iterLoss = net.device ? ((yield net.device.forward()) as number) : net.forward()
      if (computeLoss) loss = f32(loss + iterLoss)
      let idx = 0
      net.outputs().forEach((o, j) => {
        const values = o.values()
        for (let k = 0; k < values.length; k++, idx++) {
          if (i === 0) {
            scores.push(f32(values[k]!))
            scoreOutput.push(j)
          } else {
            scores[idx] = f32(scores[idx]! + values[k]!)
          }
        }
      })
      yield this.iter
    }
    if (this.requestedEarlyExit) {
      this.log.info("Test interrupted.")
      return
    }
    if (computeLoss) {
      loss = f32(loss / iterations)
      this.log.info(`Test loss: ${formatG(loss)}`)
    }
    const outputs = net.outputs()
    const means: number[] = []
    scores.forEach((sum, i) => {
      const o = outputs[scoreOutput[i]!]!
      const mean = f32(sum / iterations)
      means.push(mean)
      const lossMsg = o.lossWeight ? ` (* ${formatG(o.lossWeight)} = ${formatG(f32(o.lossWeight * mean))} loss)` : ""
      this.log.info(`    Test net output #${i}: ${o.name} = ${formatG(mean)}${lossMsg}`)
    })
    this.meanScores[testNetId] = means
  }

  /** A snapshot, after a device-resident train net has copied its parameters and history back. */
  private *snapshotSteps(): Steps {
    if (this.trainNet.device) yield this.trainNet.device.syncToHost(this.updater, this.param.snapshot_diff ?? false)
    this.snapshot()
  }

  /** `<snapshot_prefix>_iter_<iter><extension>`. */
  snapshotFilename(extension: string): string {
    return `${this.param.snapshot_prefix ?? ""}_iter_${this.iter}${extension}`
  }

  /** Writes `<prefix>_iter_N.caffemodel` and `.solverstate` (learned_net = the model file). */
  snapshot(): { model: string; state: string } {
    if (!this.snapshots) throw new SnapshotError("no snapshot store was given")
    const model = this.snapshotFilename(".caffemodel")
    this.log.info(`Snapshotting to binary proto file ${model}`)
    this.snapshots.writeModel(model, this.trainNet.toProto(this.param.snapshot_diff ?? false))
    const state = this.snapshotFilename(".solverstate")
    this.log.info(`Snapshotting solver state to binary proto file ${state}`)
    this.snapshots.writeState(state, this.solverState(model))
    return { model, state }
  }

  /** The SolverState message Caffe writes for the current iteration. */
  solverState(learnedNet: string): SolverState {
    const h = this.updater.getState()
    return {
      iter: this.iter,
      learned_net: learnedNet,
      history: h.history.map((b): BlobProto => ({ shape: { dim: [...b.shape] }, data: b.data })),
      current_step: h.currentStep
    }
  }

  /**
   * Caffe's Restore: iteration, current_step and history from a solver state, and (when given) the
   * weights of its learned_net. `stateFile` is named in errors.
   */
  restore(state: SolverState, learnedNet: NetParameter | undefined, stateFile = "solver state"): void {
    this.iter = state.iter ?? 0
    if (learnedNet) this.trainNet.copyTrainedLayersFrom(learnedNet, state.learned_net ?? stateFile)
    const params = this.trainNet.learnableParams()
    const history = (state.history ?? []).map((b, i) => {
      const data = blobValues(b)
      if (!data) throw new SolverStateError(`${stateFile}: history blob ${i} has no values`)
      return { shape: blobShape(b), data }
    })
    try {
      this.updater.restoreState({ currentStep: state.current_step ?? 0, history }, params)
    } catch (e) {
      if (e instanceof SolverStateError) throw new SolverStateError(`${stateFile}: ${e.detail}`)
      throw e
    }
    this.log.info("SGDSolver: restoring history")
  }
}

/**
 * The solver's steps: a number after each finished iteration or test batch, or a device's pending
 * result (a Promise) that the runner awaits and sends back into the generator.
 */
type Steps = Generator<number | Promise<unknown>, void, unknown>

const drain = (steps: Steps): void => {
  for (let r = steps.next(); !r.done; r = steps.next()) {
    if (r.value instanceof Promise) {
      void r.value.catch(() => undefined)
      throw new Error("this solver's net runs on a device (asynchronous): use solveAsync / stepAsync")
    }
  }
}

/** Runs the steps, awaiting device results, and returning to the event loop after every iteration and test batch. */
const runAsync = async (steps: Steps): Promise<void> => {
  let r = steps.next()
  while (!r.done) {
    if (r.value instanceof Promise) r = steps.next(await r.value)
    else {
      await new Promise<void>((resolve) => setImmediate(resolve))
      r = steps.next()
    }
  }
}

const blobValues = (b: BlobProto): Float32Array | undefined => {
  if (b.double_data && b.double_data.length > 0) return Float32Array.from(b.double_data)
  return b.data
}

const blobShape = (b: BlobProto): number[] => {
  if (b.num !== undefined || b.channels !== undefined || b.height !== undefined || b.width !== undefined) {
    return [b.num ?? 0, b.channels ?? 0, b.height ?? 0, b.width ?? 0]
  }
  return [...(b.shape?.dim ?? [])]
}
