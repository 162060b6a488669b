import type { RuleCenterState } from "../update-rule.js"

/**
 * The outer momentum buffer u of the DiLoCo rules, kept at the center and saved in its checkpoints
 * (a run resumed without it would restart the outer optimiser cold).
 */
export const outerMomentum = (paramCount: number) => {
  const u = new Float32Array(paramCount)
  return {
    u,
    save: (): RuleCenterState => ({ buffers: { outer_momentum: u.slice() } }),
    restore(state: RuleCenterState): void {
      const saved = state.buffers["outer_momentum"]
      if (!saved) throw new Error("the checkpoint has no outer_momentum buffer")
      if (saved.length !== u.length) throw new Error(`outer_momentum has ${saved.length} values, the net has ${u.length}`)
      u.set(saved)
    }
  }
}
