/**
 * The far end of bench/dist.ts, in its own process: `rpc N` serves a center of N parameters over the
 * framed-msgpack RPC transport; `raw` echoes every byte back on a plain node:net socket. Prints
 * "PORT <n>" once listening, and runs until killed.
 */
import net from "node:net"
import { Effect, Scheduler } from "effect"
import { layerCenter } from "../src/center/center-service.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { ioScheduler } from "../src/transport/io-scheduler.js"
import { serveCenterTcp } from "../src/center/serve-tcp-workers.js"

const [mode, n] = process.argv.slice(2)
if (mode === "raw") {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    socket.pipe(socket)
  })
  server.listen(0, "127.0.0.1", () => console.log(`PORT ${(server.address() as net.AddressInfo).port}`))
} else if (mode === "rpc") {
  const initial = new Float32Array(Number(n)).fill(0.5)
  await Effect.runPromise(
    Effect.gen(function* () {
      const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0 })
      console.log(`PORT ${port}`)
      yield* Effect.never
    }).pipe(
      Effect.scoped,
      Effect.provide(layerCenter({ token: "bench", settings: makeEasgdSettings({ period: 1, moving_rate: 0.1 }), workers: 1, initial })),
      Effect.withScheduler(process.env.DEEPSPARK_BENCH_DEFAULT_SCHEDULER ? Scheduler.defaultScheduler : ioScheduler)
    )
  )
} else {
  console.error("usage: dist-server.ts raw | rpc N")
  process.exit(2)
}
