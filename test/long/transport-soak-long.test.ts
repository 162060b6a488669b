/**
 * Opt-in (npm run test:long): the MessagePort soak of test/transport-soak.test.ts run for 45 s, long
 * enough for the RPC client's pinger (every 10 s) to fire four times on both worker threads — the
 * reverted out-of-band framing lost every Ping after the first over MessagePorts and the worker's
 * socket failed on the ping timeout (~30 s), which the seconds-long soak cannot see.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeSoakHandlers, serveSoakOverMessagePorts } from "../support/transport-soak.js"

describe("long: transport soak over MessagePorts past several RPC pings", () => {
  it("two worker threads exchange LeNet-sized tensors for 45 s, every tensor checked", async () => {
    const soak = makeSoakHandlers(431_080)
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const thread = yield* serveSoakOverMessagePorts(soak)
        return yield* Effect.all([thread("a", 100, { minDurationMs: 45_000 }), thread("b", 100, { minDurationMs: 45_000 })], { concurrency: "unbounded" })
      }).pipe(Effect.scoped)
    )
    expect(soak.stats.errors).toEqual([])
    for (const o of out) {
      expect(o.failed).toBeUndefined()
      expect(o.code).toBe(0)
      expect(o.result!.lastSeq).toBeGreaterThanOrEqual(100)
    }
  }, 180_000)
})
