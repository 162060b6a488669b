import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/** RMSProp: h = ρh + (1−ρ)g²; step = lr·g/(√h + δ), ρ = rms_decay. Momentum must be 0. */
export class RmsPropSolver extends SolverBase {
  readonly type = "RMSProp" as const

  protected computeUpdateValue(index: number, p: LearnableParam, rate: number): void {
    const lr = this.localRate(p, rate)
    const rho = this.settings.rmsDecay
    const oneMinusRho = f32(1 - rho)
    const delta = this.settings.delta
    const h = this.history[index]!
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) {
      const g = diff[k]!
      const hk = f32(oneMinusRho * f32(g * g) + f32(rho * h[k]!))
      h[k] = hk
      const denom = f32(f32(Math.sqrt(hk)) + delta)
      diff[k] = f32(lr * f32(g / denom))
    }
  }
}
