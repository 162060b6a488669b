import type { LearnableParam } from "./learnable-param.js"
import { SolverBase } from "./solver-base.js"

const f32 = Math.fround

/**
 * AdaDelta (decay = momentum): h1 = μh1 + (1−μ)g²; u = g·√((h2+δ)/(h1+δ)); h2 = μh2 + (1−μ)u²;
 * step = lr·u. History: [h1 for every param…, h2 for every param…].
 */
export class AdaDeltaSolver extends SolverBase {
  readonly type = "AdaDelta" as const

  protected override historyCopies(): number {
    return 2
  }

  protected computeUpdateValue(index: number, p: LearnableParam, rate: number): void {
    const lr = this.localRate(p, rate)
    const mu = this.settings.momentum
    const oneMinusMu = f32(1 - mu)
    const delta = this.settings.delta
    const n = this.history.length / 2
    const gradHist = this.history[index]!
    const updateHist = this.history[n + index]!
    const { diff, count } = p.blob
    for (let k = 0; k < count; k++) {
      const g = diff[k]!
      const h1 = f32(oneMinusMu * f32(g * g) + f32(mu * gradHist[k]!))
      gradHist[k] = h1
      const ratio = f32(f32(delta + updateHist[k]!) / f32(delta + h1))
      const u = f32(g * f32(Math.sqrt(ratio)))
      updateHist[k] = f32(oneMinusMu * f32(u * u) + f32(mu * updateHist[k]!))
      diff[k] = f32(lr * u)
    }
  }
}
