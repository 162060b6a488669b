import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/** SGD with momentum: h = μh + lr·g; step = h. */
export class SgdSolver extends SolverBase {
  readonly type = "SGD" as const

  /** The backend's sgdUpdate kernel (one pass instead of normalize / regularize / step / apply), L2 or no decay. */
  protected override fusedUpdate(params: ReadonlyArray<LearnableParam>, rate: number): boolean {
    const backend = this.backend
    const s = this.settings
    if (backend?.sgdUpdate === undefined || (s.regularizationType !== "L2" && s.weightDecay !== 0)) return false
    const factor = s.iterSize === 1 ? 1 : f32(1 / s.iterSize)
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!
      const decay = f32(s.weightDecay * f32(p.decayMult))
      backend.sgdUpdate(p.blob.count, p.blob.data, p.blob.diff, this.history[i]!, factor, decay, this.localRate(p, rate), s.momentum)
    }
    return true
  }

  protected computeUpdateValue(index: number, p: LearnableParam, rate: number): void {
    const lr = this.localRate(p, rate)
    const mu = this.settings.momentum
    const h = this.history[index]!
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) {
      const v = f32(lr * diff[k]! + f32(mu * h[k]!))
      h[k] = v
      diff[k] = v
    }
  }
}
