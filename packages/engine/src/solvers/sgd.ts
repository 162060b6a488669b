import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/** SGD with momentum: h = μh + lr·g; step = h. */
export class SgdSolver extends SolverBase {
  readonly type = "SGD" as const

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
