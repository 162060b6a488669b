import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/** AdaGrad: h += g²; step = lr·g/(√h + δ). Momentum must be 0 (checked with the settings). */
export class AdaGradSolver extends SolverBase {
  readonly type = "AdaGrad" as const

  protected computeUpdateValue(index: number, p: LearnableParam, rate: number): void {
    const lr = this.localRate(p, rate)
    const delta = this.settings.delta
    const h = this.history[index]!
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) {
      const g = diff[k]!
      const hk = f32(h[k]! + f32(g * g))
      h[k] = hk
      const denom = f32(f32(Math.sqrt(hk)) + delta)
      diff[k] = f32(lr * f32(g / denom))
    }
  }
}
