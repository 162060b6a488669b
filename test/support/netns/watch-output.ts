import type { HostProcess } from "./network.js"

/** Test support for the multi-host tests: waiting on processes' output. */

/** The output a process writes from now on. */
export const outputFrom = (p: HostProcess) => {
  const start = p.out().length
  return () => p.out().slice(start)
}

/** Polls `check` every 100 ms; its time in ms once true, or an error naming `what` (and the context) after `ms`. */
export const waitUntil = async (what: string, ms: number, check: () => boolean | Promise<boolean>, context: () => string = () => "") => {
  const t0 = Date.now()
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms\n${context()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return Date.now() - t0
}

/** The last iteration a driver's center logged an exchange of this worker at (0: none yet). */
export const lastExchangeIteration = (driverOut: string, workerId: string) =>
  Math.max(0, ...[...driverOut.matchAll(new RegExp(`Exchange \\d+ .*: ${workerId} at iteration (\\d+)`, "g"))].map((m) => Number(m[1])))
