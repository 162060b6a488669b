import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/** Nesterov momentum: h' = μh + lr·g; step = (1+μ)h' − μh. */
export class NesterovSolver extends SolverBase {
  readonly type = "Nesterov" as const

  protected computeUpdateValue(index: number, p: LearnableParam, rate: number): void {
    const lr = this.localRate(p, rate)
    const mu = this.settings.momentum
    const onePlusMu = f32(1 + mu)
    const h = this.history[index]!
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) {
      const prev = h[k]!
      const next = f32(lr * diff[k]! + f32(mu * prev))
      h[k] = next
      diff[k] = f32(onePlusMu * next + f32(-mu * prev))
    }
  }
}
