import { Duration, Effect } from "effect"
import * as net from "node:net"

/**
 * How a runner learns that the driver of a run is gone. The center lives in the driver's process, and a
 * `Train` request is volatile: when the driver dies (kill -9, a crash) nobody tells the runners, and the
 * trainer would keep restarting against a center that is no more (10 restarts with backoff, minutes).
 * So, while it trains, the runner probes the center's port once per heartbeat interval: a refused
 * connection means the host is up and nothing listens there any more — the driver is gone, and the
 * trainer is stopped at once. A center that does not answer at all (its host is down, or this runner
 * is cut off) counts as gone only after `unreachableAfterMs` without an answer.
 */
export type CenterProbe = "up" | "refused" | "unreachable"

/** One TCP connection attempt to the center, closed as soon as it is answered. */
export const probeCenter = (host: string, port: number, timeoutMs: number): Promise<CenterProbe> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (probe: CenterProbe) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(probe)
    }
    const timer = setTimeout(() => done("unreachable"), timeoutMs)
    socket.once("connect", () => done("up"))
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "refused" : "unreachable"))
  })

export interface CenterWatchOptions {
  readonly host: string
  readonly port: number
  /** Time between probes (the trainer's heartbeat interval). */
  readonly everyMs: number
  /** A center that answers nothing for this long is given up (the trainer's call timeout). */
  readonly unreachableAfterMs: number
}

/** Completes, with one line saying why, once the center is gone; runs forever while it is there. */
export const watchCenter = (options: CenterWatchOptions): Effect.Effect<string> =>
  Effect.gen(function* () {
    const where = `${options.host}:${options.port}`
    let silentSince: number | undefined
    for (;;) {
      yield* Effect.sleep(Duration.millis(options.everyMs))
      const probe = yield* Effect.promise(() => probeCenter(options.host, options.port, Math.max(1000, options.everyMs)))
      if (probe === "refused") return `the center at ${where} refuses connections: its driver is gone`
      if (probe === "up") {
        silentSince = undefined
        continue
      }
      const now = Date.now()
      silentSince ??= now
      if (now - silentSince >= options.unreachableAfterMs)
        return `the center at ${where} has not answered for ${Math.round((now - silentSince) / 1000)} s: its driver is gone or unreachable`
    }
  })
