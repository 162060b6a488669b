import { Effect } from "effect"
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { makeTcpSocketServer } from "./tcp-socket.js"

describe("a listen that fails", () => {
  it("names the address and the system's reason (it used to say only 'Open')", async () => {
    const holder = net.createServer()
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve))
    const port = (holder.address() as net.AddressInfo).port
    try {
      const error = await Effect.runPromise(Effect.scoped(makeTcpSocketServer({ host: "127.0.0.1", port })).pipe(Effect.flip))
      expect(error.message).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`))
    } finally {
      holder.close()
    }
  })
})
