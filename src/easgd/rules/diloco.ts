import { meanOf, outerNesterovStep } from "../kernels.js"
import { takeReply, type SyncRule } from "../update-rule.js"
import { outerMomentum } from "./outer-momentum.js"

/**
 * diloco (Douillard et al. 2023): synchronous rounds. Every τ inner steps each worker sends its
 * pseudo-gradient Δ_i = x̃_at_pull − x_i; the center averages the round's Δ_i into g and takes one outer
 * SGD step with Nesterov momentum, u ← μu + g, x̃ ← x̃ − lr_outer·(g + μu) (outer_lr 0.7,
 * outer_momentum 0.9 by default, OpenDiLoCo's); every worker restarts from the new x̃. The workers'
 * inner optimiser (the solver prototxt's, with its momentum history) carries on across rounds. The
 * reported distance is ‖Δ_i‖.
 */
export const diloco: SyncRule<"diloco"> = {
  name: "diloco",
  summary: "DiLoCo rounds: g = mean(x̃ − x_i), Nesterov outer step x̃ −= lr_o(g + μu), workers restart from x̃",
  synchronous: true,
  sends: "pseudo-gradient",
  settings: ["outer_lr", "outer_momentum"],
  defaults: {},
  center: (settings, _workers, paramCount) => {
    const momentum = outerMomentum(paramCount)
    const g = new Float32Array(paramCount)
    return {
      save: momentum.save,
      restore: momentum.restore,
      round(center, messages) {
        meanOf(g, messages)
        outerNesterovStep(center, momentum.u, g, settings.outerLr, settings.outerMomentum)
        return messages.map((m) => {
          let s = 0
          for (let k = 0; k < m.length; k++) s += m[k]! * m[k]!
          return { reply: center.slice(), distance: Math.sqrt(s) }
        })
      }
    }
  },
  workerStep: takeReply
}
