import { spawn, type ChildProcess } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { Center, layerCenter } from "../center/center-service.js"
import type { CenterEvent } from "../center/center-state.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"
import { captureOutput, type CapturedProcess } from "../../test/support/captured-process.js"
import { syntheticCenterJob } from "../simulator/synthetic-center-job.js"

/**
 * Multi-process mode on loopback: the center in this process (serveCenterTcp), `deepspark worker`
 * processes spawned as an operator would start them, one trainer child killed with SIGKILL mid-run,
 * and an intruder with the wrong token.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const job = syntheticCenterJob({ problemSeed: 3 })
const spawned: ChildProcess[] = []

const worker = (port: number, args: ReadonlyArray<string>, onLine?: (line: string) => void): CapturedProcess => {
  const child = spawn(
    process.execPath,
    ["bin/run-ts.mjs", "src/cli/remote-main.ts", "worker", "--connect", `127.0.0.1:${port}`, "--synthetic", "3", "--max-iter", "200", "--period", "5", ...args],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }
  )
  spawned.push(child)
  return captureOutput(child, onLine)
}

afterAll(() => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
})

describe("deepspark worker processes against a TCP center", () => {
  it("two workers train the center; a SIGKILLed trainer child restarts and resumes; a bad token is refused", async () => {
    let w0Child: number | undefined
    let killedAt: number | undefined
    let w0Exchanges = 0
    const onEvent = (e: CenterEvent) => {
      if (e.type !== "exchange" || e.workerId !== "w0") return
      w0Exchanges++
      // Kill w0's trainer while its 3rd exchange is being applied: it never gets the reply.
      if (killedAt === undefined && w0Exchanges === 3 && w0Child) {
        killedAt = w0Exchanges
        process.kill(w0Child, "SIGKILL")
      }
    }
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const center = yield* Center
        const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0 })
        const w0 = worker(port, ["--partition", "0/2", "--id", "w0", "--token", "tok", "--backoff-ms", "100"], (line) => {
          const m = /trainer process (\d+) started \(attempt 1\)/.exec(line)
          if (m) w0Child = Number(m[1])
        })
        const w1 = worker(port, ["--partition", "1/2", "--id", "w1", "--token", "tok"])
        const intruder = worker(port, ["--partition", "1/2", "--id", "intruder", "--token", "wrong"])
        const codes = yield* Effect.promise(() => Promise.all([w0.exit, w1.exit, intruder.exit]))
        const view = yield* center.view
        const x = yield* center.params
        return {
          codes,
          outputs: [w0.out(), w1.out(), intruder.out()],
          w0: view.workers.get("w0")!,
          w1: view.workers.get("w1")!,
          intruderKnown: view.workers.has("intruder"),
          exchanges: view.exchanges,
          accuracy: job.evaluate ? (yield* Effect.promise(() => job.evaluate!(x, 0))).outputs[0]!.value : 0
        }
      }).pipe(
        Effect.scoped,
        Effect.provide(layerCenter({ token: "tok", settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }), workers: 2, initial: job.initialParams() }, { onEvent }))
      )
    )
    expect(result.codes, result.outputs.join("\n----\n")).toEqual([0, 0, 3])
    expect(killedAt).toBe(3)
    const [w0Out, , intruderOut] = result.outputs
    expect(w0Out).toMatch(/trainer process died \(killed by SIGKILL\); restarting/)
    // The new incarnation resumed at the iteration of the last applied exchange (3 × τ = 15).
    expect(w0Out).toMatch(/registered as incarnation 2, resuming at iteration 15/)
    expect(intruderOut).toMatch(/rejected by the center \(auth\).*wrong token/)
    expect(result.intruderKnown).toBe(false)
    expect(result.w0).toMatchObject({ incarnation: 2, clock: 200, exchanges: 40, stopped: true })
    expect(result.w1).toMatchObject({ incarnation: 1, clock: 200, exchanges: 40, stopped: true })
    expect(result.exchanges).toBe(80)
    expect(result.accuracy).toBeGreaterThan(0.8)
  }, 120_000)
})
