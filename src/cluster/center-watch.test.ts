import { Effect, Fiber } from "effect"
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { probeCenter, watchCenter } from "./center-watch.js"

/** A runner's watch on its trainers' center: a closed port means the driver is gone. */
describe("watchCenter", () => {
  it("keeps watching while the center listens, and says the driver is gone once it closes", async () => {
    const server = net.createServer((c) => c.destroy())
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as net.AddressInfo).port
    expect(await probeCenter("127.0.0.1", port, 1000)).toBe("up")
    const fiber = Effect.runFork(watchCenter({ host: "127.0.0.1", port, everyMs: 200, unreachableAfterMs: 60_000 }))
    await new Promise((r) => setTimeout(r, 700))
    expect(fiber.unsafePoll()).toBeNull()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const why = await Effect.runPromise(Fiber.join(fiber))
    expect(why).toBe(`the center at 127.0.0.1:${port} refuses connections: its driver is gone`)
    expect(await probeCenter("127.0.0.1", port, 1000)).toBe("refused")
  })
})
