import { describe, expect, it } from "vitest"
import { makeEasgdSettings } from "../easgd/settings.js"
import { CenterState, plannedWorkersFinished } from "./center-state.js"

/** Who may end a run: a Stop counts as a finished partition only from a worker that trained. */
const center = () =>
  new CenterState({ token: "tok", settings: makeEasgdSettings({ period: 1, moving_rate: 0.5 }), workers: 1, initial: Float32Array.of(0, 0) })

const register = (c: CenterState, workerId: string) =>
  c.register({ workerId, token: "tok", paramCount: 2, partition: { index: 0, count: 1 } }, 0).incarnation

describe("Stop and the end of a run", () => {
  it("a worker that registers and stops at iteration 0 does not end a --workers 1 run; the one that trained does", () => {
    const c = center()
    const intruder = register(c, "intruder")
    expect(c.stopWorker({ workerId: "intruder", incarnation: intruder, token: "tok" })).toBe("left")
    expect(plannedWorkersFinished(c, 1)).toBe(false)
    expect(c.activeWorkers().map((w) => w.workerId)).toEqual([])

    const real = register(c, "w0")
    c.exchange({ workerId: "w0", incarnation: real, token: "tok", seq: 1, clock: 5, params: Float32Array.of(1, 1), lossSum: 1, iterations: 5, cursor: null }, 1)
    expect(plannedWorkersFinished(c, 1)).toBe(false)
    expect(c.stopWorker({ workerId: "w0", incarnation: real, token: "tok" })).toBe("finished")
    expect(plannedWorkersFinished(c, 1)).toBe(true)
  })

  it("a worker resumed after a finished partition (exchanges restored from the checkpoint) still counts", () => {
    const c = center()
    const state = c.checkpointState()
    c.restore(Float32Array.of(0, 0), {
      ...state,
      exchanges: 3,
      workers: [{ workerId: "w0", incarnation: 1, partition: { index: 0, count: 1 }, clock: 15, cursor: null, exchanges: 3 }]
    })
    const inc = register(c, "w0")
    expect(c.stopWorker({ workerId: "w0", incarnation: inc, token: "tok" })).toBe("finished")
    expect(plannedWorkersFinished(c, 1)).toBe(true)
  })
})
