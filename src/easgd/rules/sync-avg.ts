import { averageRound, distance } from "../kernels.js"
import { stateless, takeReply, type SyncRule } from "../update-rule.js"

/** sync-avg (SparkNet): every τ all workers meet; x̃ ← mean(x_i) and every x_i ← x̃. */
export const syncAvg: SyncRule<"sync-avg"> = {
  name: "sync-avg",
  summary: "SparkNet's synchronous averaging: every τ, x̃ ← mean(x_i), x_i ← x̃",
  synchronous: true,
  sends: "params",
  settings: [],
  defaults: {},
  center: () => ({
    ...stateless,
    round(center, messages) {
      const copies = messages.map((m) => m.slice())
      averageRound(center, copies)
      return messages.map((m, i) => ({ reply: copies[i]!, distance: distance(m, center) }))
    }
  }),
  workerStep: takeReply
}
