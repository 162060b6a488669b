import type { NetParameter, SolverParameter, SolverState } from "@deepspark/caffe"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { NonFiniteLossError, SnapshotError } from "./errors.js"
import { CapturingLogger } from "./logger.js"
import type { SnapshotStore, SolverAction } from "./solver.js"
import { Solver } from "./solver.js"
import { ToyNet } from "./toy-net.test-helper.js"

const targets: ReadonlyArray<readonly [number, number]> = [
  [1, 2],
  [3, -1],
  [0, 0.5]
]
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ds-solver-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

class MemoryStore implements SnapshotStore {
  readonly models = new Map<string, NetParameter>()
  readonly states = new Map<string, SolverState>()
  writeModel(file: string, net: NetParameter): void {
    this.models.set(file, structuredClone(net))
  }
  writeState(file: string, state: SolverState): void {
    this.states.set(file, structuredClone(state))
  }
}

const baseParam = (extra: Partial<SolverParameter> = {}): SolverParameter => ({
  base_lr: 0.1,
  lr_policy: "fixed",
  momentum: 0.5,
  display: 1,
  max_iter: 4,
  test_iter: [3],
  test_interval: 2,
  snapshot: 2,
  snapshot_prefix: path.join(tmp, "toy"),
  ...extra
})

const makeSolver = (extra: Partial<SolverParameter> = {}, action?: () => SolverAction) => {
  const log = new CapturingLogger()
  const store = new MemoryStore()
  const train = new ToyNet(targets)
  const test = new ToyNet([[0, 0]])
  const solver = new Solver({
    param: baseParam(extra),
    trainNet: train,
    testNets: [test],
    log,
    snapshots: store,
    ...(action ? { requestedAction: action } : {})
  })
  return { solver, log, store, train, test }
}

/** The log with the run-dependent timing figures masked. */
const shape = (messages: string[]) => messages.map((m) => m.replace(/\(\S+ iter\/s, \S+s\//, "(X iter/s, Xs/"))

describe("Solver (Caffe's Step/Solve/Test/Snapshot)", () => {
  it("writes Caffe's log lines in Caffe's order", () => {
    const { solver, log, store } = makeSolver()
    solver.solve()
    const p = path.join(tmp, "toy")
    expect(shape(log.messages)).toEqual([
      "Solving Toy",
      "Learning Rate Policy: fixed",
      "Iteration 0, Testing net (#0)",
      "    Test net output #0: err = 0",
      "    Test net output #1: loss = 0 (* 1 = 0 loss)",
      "Iteration 0 (X iter/s, Xs/1 iters), loss = 2.5",
      "    Train net output #0: err = 1",
      "    Train net output #1: loss = 2.5 (* 1 = 2.5 loss)",
      "Iteration 0, lr = 0.1",
      // w = (0.1, 0.2); target (3,-1): d = (-2.9, 1.2), loss = ½(8.41 + 1.44) = 4.925
      "Iteration 1 (X iter/s, Xs/1 iters), loss = 4.925",
      "    Train net output #0: err = 2.9",
      "    Train net output #1: loss = 4.925 (* 1 = 4.925 loss)",
      "Iteration 1, lr = 0.1",
      `Snapshotting to binary proto file ${p}_iter_2.caffemodel`,
      `Snapshotting solver state to binary proto file ${p}_iter_2.solverstate`,
      "Iteration 2, Testing net (#0)",
      expect.stringMatching(/^ {4}Test net output #0: err = /),
      expect.stringMatching(/^ {4}Test net output #1: loss = \S+ \(\* 1 = \S+ loss\)$/),
      expect.stringMatching(/^Iteration 2 \(X iter\/s, Xs\/1 iters\), loss = /),
      expect.stringMatching(/^ {4}Train net output #0: err = /),
      expect.stringMatching(/^ {4}Train net output #1: loss = /),
      "Iteration 2, lr = 0.1",
      expect.stringMatching(/^Iteration 3 \(/),
      expect.stringMatching(/Train net output #0/),
      expect.stringMatching(/Train net output #1/),
      "Iteration 3, lr = 0.1",
      `Snapshotting to binary proto file ${p}_iter_4.caffemodel`,
      `Snapshotting solver state to binary proto file ${p}_iter_4.solverstate`,
      expect.stringMatching(/^Iteration 4, loss = \S+$/),
      "Iteration 4, Testing net (#0)",
      expect.stringMatching(/Test net output #0: err = /),
      expect.stringMatching(/Test net output #1: loss = /),
      "Optimization Done."
    ])
    expect([...store.models.keys()]).toEqual([`${p}_iter_2.caffemodel`, `${p}_iter_4.caffemodel`])
    const state = store.states.get(`${p}_iter_4.solverstate`)!
    expect(state.iter).toBe(4)
    expect(state.learned_net).toBe(`${p}_iter_4.caffemodel`)
    expect(state.current_step).toBe(0)
    expect(state.history?.length).toBe(1)
    expect(state.history?.[0]?.shape?.dim).toEqual([2])
  })

  it("test nets use the train net's weights; test outputs are means over test_iter batches", () => {
    const train = new ToyNet(targets, [0.5, 0])
    const test = new ToyNet([[1, 0], [2, 0], [4, 0]])
    const s = new Solver({ param: baseParam({ test_iter: [3], snapshot: 0, snapshot_after_train: false }), trainNet: train, testNets: [test] })
    s.testAll()
    expect(test.weights).toBe(train.weights)
    // w0 = 0.5: err = |0.5 − t0| → mean (0.5+1.5+3.5)/3; loss = ½(0.5 − t0)² → mean (0.125+1.125+6.125)/3
    expect(s.meanScores[0]![0]).toBeCloseTo(5.5 / 3, 6)
    expect(s.meanScores[0]![1]).toBeCloseTo(7.375 / 3, 6)
  })

  it("average_loss smooths the displayed loss over a sliding window", () => {
    const { solver, log } = makeSolver({ average_loss: 2, max_iter: 3, test_interval: 100, snapshot: 0, snapshot_after_train: false, display: 1 })
    solver.solve()
    const shown = log.messages.filter((m) => /^Iteration \d+ \(/.test(m)).map((m) => Number(m.split("loss = ")[1]))
    const raw = solver.iterationLosses
    expect(shown[0]).toBeCloseTo(raw[0]!, 4)
    expect(shown[1]).toBeCloseTo((raw[0]! + raw[1]!) / 2, 4)
    expect(shown[2]).toBeCloseTo((raw[1]! + raw[2]!) / 2, 4)
  })

  it("test_initialization false skips the iteration-0 test; display 0 prints no iteration lines", () => {
    const { solver, log } = makeSolver({ test_initialization: false, display: 0, snapshot: 0, snapshot_after_train: false })
    solver.solve()
    expect(log.messages).toEqual([
      "Solving Toy",
      "Learning Rate Policy: fixed",
      "Iteration 2, Testing net (#0)",
      expect.stringMatching(/Test net output #0/),
      expect.stringMatching(/Test net output #1/),
      "Iteration 4, Testing net (#0)",
      expect.stringMatching(/Test net output #0/),
      expect.stringMatching(/Test net output #1/),
      "Optimization Done."
    ])
  })

  it("iter_size accumulates gradients of several batches and averages the loss", () => {
    const a = makeSolver({ iter_size: 3, max_iter: 1, momentum: 0, test_interval: 100, test_initialization: false, snapshot: 0, snapshot_after_train: false })
    a.solver.solve()
    // mean target = (4/3, 1.5/3); w = 0.1 · mean gradient of (w − t) at w = 0
    expect(a.train.weights.data[0]).toBeCloseTo(0.1 * (4 / 3), 6)
    expect(a.train.weights.data[1]).toBeCloseTo(0.1 * 0.5, 6)
    expect(a.solver.iterationLosses[0]).toBeCloseTo((2.5 + 5 + 0.125) / 3, 5)
  })

  it("resuming from a snapshot continues exactly like an uninterrupted run", () => {
    const full = makeSolver({ max_iter: 6, snapshot: 3, momentum: 0.9 })
    full.solver.solve()
    const first = makeSolver({ max_iter: 3, snapshot: 3, momentum: 0.9 })
    first.solver.solve()
    const file = `${path.join(tmp, "toy")}_iter_3`
    const state = first.store.states.get(`${file}.solverstate`)!
    const model = first.store.models.get(`${file}.caffemodel`)!
    const resumed = makeSolver({ max_iter: 6, snapshot: 3, momentum: 0.9 })
    resumed.solver.restore(state, model)
    // The data cursor is not part of a Caffe snapshot; replay it so both runs see the same batches.
    for (let i = 0; i < state.iter!; i++) resumed.train.forward()
    resumed.train.copyTrainedLayersFrom(model)
    resumed.solver.solve()
    expect(Array.from(resumed.train.weights.data)).toEqual(Array.from(full.train.weights.data))
    expect(resumed.solver.iter).toBe(6)
    expect(resumed.log.messages).toContain("SGDSolver: restoring history")
  })

  it("a stop request snapshots and ends the run early (Caffe's SIGINT behaviour)", () => {
    let calls = 0
    const { solver, log, store } = makeSolver({ max_iter: 10, snapshot: 0, test_initialization: false, test_interval: 100 }, () => (++calls === 3 ? "stop" : "none"))
    solver.solve()
    expect(solver.iter).toBe(3)
    expect(solver.stoppedEarly).toBe(true)
    expect([...store.models.keys()]).toEqual([`${path.join(tmp, "toy")}_iter_3.caffemodel`])
    expect(log.messages[log.messages.length - 1]).toBe("Optimization stopped early.")
    expect(log.messages).not.toContain("Optimization Done.")
  })

  it("a snapshot request writes a snapshot and training goes on", () => {
    let calls = 0
    const { solver, store } = makeSolver({ max_iter: 4, snapshot: 0, snapshot_after_train: false, test_initialization: false, test_interval: 100 }, () => (++calls === 2 ? "snapshot" : "none"))
    solver.solve()
    expect(solver.iter).toBe(4)
    expect([...store.models.keys()]).toEqual([`${path.join(tmp, "toy")}_iter_2.caffemodel`])
  })

  it("a NaN loss stops training with one error naming the iteration, before any update or snapshot", () => {
    const log = new CapturingLogger()
    const store = new MemoryStore()
    const net = new ToyNet(targets, [0, 0], 2)
    const solver = new Solver({ param: baseParam({ test_iter: [], test_interval: 0 }), trainNet: net, log, snapshots: store })
    let error: unknown
    try {
      solver.solve()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(NonFiniteLossError)
    expect((error as Error).message).toMatch(/^Iteration 2: the training loss of net "Toy" is NaN/)
    expect(store.models.size).toBe(1) // only the regular snapshot at iteration 2 … none after the NaN
    expect(solver.iter).toBe(2)
  })

  it("refuses HDF5 snapshots, a missing prefix and an unwritable prefix up front", () => {
    expect(() => makeSolver({ snapshot_format: "HDF5" })).toThrow(SnapshotError)
    expect(() => makeSolver({ snapshot_format: "HDF5" })).toThrow(/HDF5 is not supported/)
    const { snapshot_prefix: _drop, ...noPrefix } = baseParam()
    expect(() => new Solver({ param: noPrefix, trainNet: new ToyNet(targets), testNets: [new ToyNet(targets)], snapshots: new MemoryStore() })).toThrow(
      /snapshot_prefix is not/
    )
    expect(() => makeSolver({ snapshot_prefix: path.join(tmp, "missing-dir", "x") })).toThrow(/Cannot write to snapshot prefix/)
    expect(() => makeSolver({ test_iter: [1, 2] })).toThrow(/test_iter must be specified for each test network/)
  })

  it("solveAsync yields to the event loop yet trains and logs exactly like solve", async () => {
    const a = makeSolver({ max_iter: 5 })
    a.solver.solve()
    const b = makeSolver({ max_iter: 5 })
    // Other work queued on the event loop (setImmediate, the phase solveAsync yields to) runs in between:
    // once per turn of the loop, so at least once per iteration. (A timer would not: a toy iteration can
    // take less than its 1 ms.)
    let ticks = 0
    let running = true
    const tick = () => {
      ticks++
      if (running) setImmediate(tick)
    }
    setImmediate(tick)
    await b.solver.solveAsync()
    running = false
    expect(Array.from(b.train.weights.data)).toEqual(Array.from(a.train.weights.data))
    expect(shape(b.log.messages)).toEqual(shape(a.log.messages))
    expect(ticks).toBeGreaterThanOrEqual(5)
  })

  it("stepContinuing logs and trains as one long Step: smoothed loss and iter/s carry over between calls", () => {
    const withClock = (ticks: { now: number }) => {
      const log = new CapturingLogger()
      const train = new ToyNet(targets)
      const param = baseParam({ display: 2, average_loss: 3, test_iter: [], test_interval: 0, snapshot: 0, snapshot_after_train: false, max_iter: 100 })
      return { log, train, solver: new Solver({ param, trainNet: train, log, clock: () => (ticks.now += 250) }) }
    }
    const a = withClock({ now: 0 })
    a.solver.step(8)
    const b = withClock({ now: 0 })
    for (let i = 0; i < 8; i++) b.solver.stepContinuing()
    expect(b.solver.iter).toBe(8)
    expect(b.log.messages).toEqual(a.log.messages)
    expect(Array.from(b.train.weights.data)).toEqual(Array.from(a.train.weights.data))
    // 2 iterations between displays, one clock tick (250 ms) per display: 8 iter/s, not step(1)'s 0.
    expect(b.log.messages.filter((m) => /^Iteration [2468] \(8 iter\/s, 0\.25s\/2 iters\), loss = /.test(m))).toHaveLength(3)
    // Moved from outside (a worker resuming elsewhere): a new Step starts there.
    b.solver.iter = 20
    b.solver.stepContinuing()
    expect(b.solver.iter).toBe(21)
  })

  it("stepContinuingAsync (any net, device-resident included) logs and trains exactly as stepContinuing", async () => {
    const make = () => {
      let now = 0
      const log = new CapturingLogger()
      const train = new ToyNet(targets)
      const param = baseParam({ display: 2, average_loss: 3, test_iter: [3], test_interval: 4, snapshot: 0, snapshot_after_train: false, max_iter: 100 })
      return { log, train, solver: new Solver({ param, trainNet: train, testNets: [new ToyNet([[0, 0]])], log, clock: () => (now += 250) }) }
    }
    const a = make()
    for (let i = 0; i < 9; i++) a.solver.stepContinuing()
    const b = make()
    for (let i = 0; i < 9; i++) await b.solver.stepContinuingAsync()
    expect(b.solver.iter).toBe(9)
    expect(b.log.messages).toEqual(a.log.messages)
    expect(Array.from(b.train.weights.data)).toEqual(Array.from(a.train.weights.data))
    expect(b.log.messages.some((m) => /^Iteration 8 \(8 iter\/s, 0\.25s\/2 iters\)/.test(m))).toBe(true)
  })

  it("writes lines that Caffe's parse_log.py patterns read", () => {
    const { solver, log } = makeSolver()
    solver.solve()
    const glog = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} \d+ \S+:\d+\] /
    expect(log.lines.every((l) => glog.test(l))).toBe(true)
    expect(log.lines.some((l) => l.includes("] Solving Toy"))).toBe(true)
    const train = log.lines.filter((l) => /Train net output #(\d+): (\S+) = ([.\deE+-]+)/.test(l))
    const test = log.lines.filter((l) => /Test net output #(\d+): (\S+) = ([.\deE+-]+)/.test(l))
    const lr = log.lines.filter((l) => /lr = ([-+]?[0-9]*\.?[0-9]+([eE]?[-+]?[0-9]+)?)/.test(l))
    expect([train.length, test.length, lr.length]).toEqual([8, 6, 4])
    expect(log.lines.slice(1).every((l) => l.split(/\s+/).length >= 2)).toBe(true)
  })
})
