import type { Backend } from "../backend/backend.js"
import { formatG } from "../train/format-g.js"
import type { Logger } from "../train/logger.js"
import { silentLogger } from "../train/logger.js"
import { SolverStateError } from "./errors.js"
import type { LearnableParam } from "./learnable-param.js"
import { learningRate } from "./lr-policy.js"
import type { SolverTypeName, UpdateSettings } from "./update-settings.js"

const f32 = Math.fround

/** The solver's own state as a .solverstate stores it (besides `iter` and `learned_net`). */
export interface SolverHistoryState {
  readonly currentStep: number
  /** History blobs in Caffe's layout: N (one per learnable param) or 2N ([first…, second…]). */
  readonly history: ReadonlyArray<{ readonly shape: ReadonlyArray<number>; readonly data: Float32Array }>
}

/**
 * What every Caffe solver shares (SGDSolver's ApplyUpdate, ClipGradients, Normalize, Regularize, the
 * history and current_step). Subclasses give ComputeUpdateValue: turn the regularised gradient in
 * `diff` into the step that `applyUpdate` then subtracts from `data`.
 *
 * Arithmetic is float32 in Caffe's order of operations. BLAS `axpy`/`axpby` steps are modelled as
 * fused multiply-adds (OpenBLAS's x86-64 kernels use FMA): `fround(a·x + y)` computes a float fma
 * exactly, since a product of two floats is exact in double.
 */
export abstract class SolverBase {
  abstract readonly type: SolverTypeName
  currentStep = 0
  history: Float32Array[] = []
  historyShapes: number[][] = []
  /** The net's kernels, when given: the history lives in their memory and fused updates may use them. */
  protected backend: Backend | undefined

  constructor(
    readonly settings: UpdateSettings,
    protected readonly log: Logger = silentLogger
  ) {}

  /** Uses `backend` for the history's storage and, where a solver has one, its fused update kernel. Call before the first update. */
  useBackend(backend: Backend): void {
    this.backend = backend
  }

  /** 1 for SGD, Nesterov, AdaGrad, RMSProp; 2 for AdaDelta and Adam. */
  protected historyCopies(): number {
    return 1
  }

  /** Caffe's PreSolve: zeroed history shaped like each parameter (kept if it already fits). */
  ensureHistory(params: ReadonlyArray<LearnableParam>): void {
    const copies = this.historyCopies()
    const fits =
      this.history.length === copies * params.length &&
      this.history.every((h, i) => h.length === params[i % params.length]!.blob.count)
    if (fits) return
    this.history = []
    this.historyShapes = []
    for (let c = 0; c < copies; c++) {
      for (const p of params) {
        this.history.push(this.backend ? this.backend.allocator.allocFloat32(p.blob.count) : new Float32Array(p.blob.count))
        this.historyShapes.push([...p.blob.shape])
      }
    }
  }

  /** The rate for `iter` completed updates; advances current_step (and logs it) like Caffe. */
  learningRate(iter: number): number {
    const r = learningRate(this.settings, iter, this.currentStep)
    this.currentStep = r.currentStep
    if (r.advanced) this.log.info(`MultiStep Status: Iteration ${iter}, step = ${r.currentStep}`)
    return r.rate
  }

  /** The rate of update `iteration` (learningRate), logging `Iteration N, lr = R` on display iterations as ApplyUpdate does. */
  rateForUpdate(iteration: number): number {
    const rate = this.learningRate(iteration)
    const display = this.settings.display
    if (display > 0 && iteration % display === 0) {
      this.log.info(`Iteration ${iteration}, lr = ${formatG(rate)}`)
    }
    return rate
  }

  /**
   * One parameter update (Caffe's SGDSolver::ApplyUpdate) from the gradients accumulated in the params'
   * diffs, `iteration` = number of updates done before this one. Logs `Iteration N, lr = R` on display
   * iterations, clips, then per parameter normalises, regularises and computes the step, and finally
   * applies w -= step. Returns the rate used. Leaves the step in each diff, as Caffe does.
   */
  applyUpdate(params: ReadonlyArray<LearnableParam>, iteration: number): number {
    this.ensureHistory(params)
    const rate = this.rateForUpdate(iteration)
    this.clipGradients(params)
    if (this.fusedUpdate(params, rate)) return rate
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!
      this.normalize(p)
      this.regularize(p)
      this.computeUpdateValue(i, p, rate, iteration)
    }
    for (const p of params) {
      const { data, diff, count } = p.blob
      for (let k = 0; k < count; k++) data[k] = f32(data[k]! - diff[k]!)
    }
    return rate
  }

  /** Scales all diffs by clip/‖g‖ when the global L2 norm ‖g‖ exceeds clip_gradients (≥ 0). */
  clipGradients(params: ReadonlyArray<LearnableParam>): void {
    const clip = this.settings.clipGradients
    if (clip < 0) return
    let sumsq = 0
    for (const p of params) {
      const { diff, count } = p.blob
      let s = 0
      for (let k = 0; k < count; k++) s += diff[k]! * diff[k]!
      sumsq = f32(sumsq + f32(s))
    }
    const norm = f32(Math.sqrt(sumsq))
    if (norm > clip) {
      const scale = f32(clip / norm)
      this.log.info(
        `Gradient clipping: scaling down gradients (L2 norm ${formatG(norm)} > ${formatG(clip)}) by scale factor ${formatG(scale)}`
      )
      for (const p of params) {
        const { diff, count } = p.blob
        for (let k = 0; k < count; k++) diff[k] = f32(diff[k]! * scale)
      }
    }
  }

  /** diff ×= 1/iter_size (only when iter_size > 1): the diffs hold the sum over iter_size passes. */
  normalize(p: LearnableParam): void {
    if (this.settings.iterSize === 1) return
    const factor = f32(1 / this.settings.iterSize)
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) diff[k] = f32(diff[k]! * factor)
  }

  /** Weight decay: L2 adds decay·w, L1 adds decay·sign(w); decay = weight_decay·decay_mult (0: skipped). */
  regularize(p: LearnableParam): void {
    const localDecay = f32(this.settings.weightDecay * f32(p.decayMult))
    if (localDecay === 0) return
    const { data, diff, count } = p.blob
    if (this.settings.regularizationType === "L2") {
      for (let k = 0; k < count; k++) diff[k] = f32(localDecay * data[k]! + diff[k]!)
    } else {
      for (let k = 0; k < count; k++) {
        const w = data[k]!
        const sign = w > 0 ? 1 : w < 0 ? -1 : 0
        diff[k] = f32(localDecay * sign + diff[k]!)
      }
    }
  }

  /**
   * Normalize, regularize, compute and apply every parameter's step in one kernel pass each, with the
   * same results bit for bit; false when this solver or backend has no such kernel (the JS passes run).
   */
  protected fusedUpdate(_params: ReadonlyArray<LearnableParam>, _rate: number): boolean {
    return false
  }

  /** Turns the regularised gradient in `p.blob.diff` into the step; `index` selects the history. */
  protected abstract computeUpdateValue(index: number, p: LearnableParam, rate: number, iteration: number): void

  /** The local rate of a parameter: rate · lr_mult (float). */
  protected localRate(p: LearnableParam, rate: number): number {
    return f32(rate * f32(p.lrMult))
  }

  /** current_step and the history blobs, for a .solverstate (copies). */
  getState(): SolverHistoryState {
    return {
      currentStep: this.currentStep,
      history: this.history.map((h, i) => ({ shape: [...this.historyShapes[i]!], data: h.slice() }))
    }
  }

  /** Restores current_step and the history (Caffe's RestoreSolverStateFromBinaryProto checks). */
  restoreState(state: SolverHistoryState, params: ReadonlyArray<LearnableParam>): void {
    this.ensureHistory(params)
    if (state.history.length !== this.history.length) {
      throw new SolverStateError(
        `Incorrect length of history blobs: the solver state has ${state.history.length}, ` +
          `${this.type} on this net needs ${this.history.length}`
      )
    }
    state.history.forEach((h, i) => {
      const mine = this.history[i]!
      if (h.data.length !== mine.length) {
        const p = params[i % params.length]!
        throw new SolverStateError(
          `history blob ${i} (${p.layerName ?? "?"} param ${p.name ?? i % params.length}) has ${h.data.length} values, ` +
            `the parameter has ${mine.length} [${this.historyShapes[i]!.join(" ")}]`
        )
      }
      mine.set(h.data)
    })
    this.currentStep = state.currentStep
  }
}
