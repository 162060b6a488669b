import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/**
 * Adam (β1 = momentum, β2 = momentum2, ε = delta): m = β1m + (1−β1)g; v = β2v + (1−β2)g²;
 * step = lr·√(1−β2^t)/(1−β1^t)·m/(√v + ε) with t = iteration + 1 (from the global iteration, so it
 * survives a resume). History: [m for every param…, v for every param…].
 */
export class AdamSolver extends SolverBase {
  readonly type = "Adam" as const

  protected override historyCopies(): number {
    return 2
  }

  protected computeUpdateValue(index: number, p: LearnableParam, rate: number, iteration: number): void {
    const lr = this.localRate(p, rate)
    const beta1 = this.settings.momentum
    const beta2 = this.settings.momentum2
    const eps = this.settings.delta
    const t = iteration + 1
    // Caffe: pow(float, int) is double, so the correction is computed in double, stored as float.
    const correction = f32(Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t)))
    const scale = f32(lr * correction)
    const oneMinusB1 = f32(1 - beta1)
    const oneMinusB2 = f32(1 - beta2)
    const n = this.history.length / 2
    const m = this.history[index]!
    const v = this.history[n + index]!
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) {
      const g = diff[k]!
      const mk = f32(oneMinusB1 * g + f32(beta1 * m[k]!))
      const vk = f32(oneMinusB2 * f32(g * g) + f32(beta2 * v[k]!))
      m[k] = mk
      v[k] = vk
      const denom = f32(f32(Math.sqrt(vk)) + eps)
      diff[k] = f32(scale * f32(mk / denom))
    }
  }
}
