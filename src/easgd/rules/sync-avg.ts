import { distance, meanOf } from "../kernels.js"
import { stateless, takeReply, type SyncRule } from "../update-rule.js"

/**
 * sync-avg (SparkNet): every τ all workers meet; x̃ ← mean(x_i) and every x_i ← x̃. The mean is summed in
 * double precision in the members' order (meanOf) into a sum kept for the run, and
 * every member's reply is one copy of the new x̃: no allocation but that copy per round, which matters
 * at τ 1 (sync-sgd) with many workers.
 */
export const syncAvg: SyncRule<"sync-avg"> = {
  name: "sync-avg",
  summary: "SparkNet's synchronous averaging: every τ, x̃ ← mean(x_i), x_i ← x̃",
  synchronous: true,
  sends: "params",
  settings: [],
  defaults: {},
  center: (_settings, _workers, paramCount) => {
    const sum = new Float64Array(paramCount)
    return {
      ...stateless,
      round(center, messages) {
        if (messages.length === 0) return []
        meanOf(center, messages, sum)
        // One reply for every member: the transport only reads it (encodes it), and the next round
        // cannot start before every member has had its reply.
        const reply = center.slice()
        return messages.map((m) => ({ reply, distance: distance(m, center) }))
      }
    }
  },
  workerStep: takeReply
}
