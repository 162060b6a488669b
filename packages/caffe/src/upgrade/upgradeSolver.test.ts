import { describe, expect, it } from "vitest"
import type { SolverParameter } from "../schema/types.js"
import { parsePrototxt } from "../text/prototxt.js"
import { UpgradeError } from "./UpgradeError.js"
import { upgradeSolverAsNeeded } from "./upgradeSolver.js"

const solver = (text: string): SolverParameter => parsePrototxt("SolverParameter", text)

describe("solver upgrades", () => {
  it("turns every solver_type enum into the type string", () => {
    const expected: Record<string, string> = { SGD: "SGD", NESTEROV: "Nesterov", ADAGRAD: "AdaGrad", RMSPROP: "RMSProp", ADADELTA: "AdaDelta", ADAM: "Adam" }
    for (const [old, type] of Object.entries(expected)) {
      const lines: Array<string> = []
      const up = upgradeSolverAsNeeded(solver(`solver_type: ${old} base_lr: 0.1`), { file: "s.prototxt", log: (_l, m) => lines.push(m) })
      expect(up).toEqual({ type, base_lr: 0.1, snapshot_prefix: "s" })
      expect(lines[0]).toBe("Attempting to upgrade input file specified using deprecated 'solver_type' field (enum)': s.prototxt")
    }
  })

  it("rejects solver_type together with type", () => {
    try {
      upgradeSolverAsNeeded(solver(`solver_type: ADAM type: "Adam"`), { file: "s.prototxt" })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(UpgradeError)
      expect((e as UpgradeError).path).toBe("solver_type")
      expect((e as UpgradeError).reason).toContain("cannot be both specified")
    }
  })

  it("defaults snapshot_prefix to the solver path without extension; a directory prefix gets the stem", () => {
    expect(upgradeSolverAsNeeded(solver(""), { file: "examples/mnist/lenet_solver.prototxt" }).snapshot_prefix).toBe("examples/mnist/lenet_solver")
    expect(upgradeSolverAsNeeded(solver(""), { file: "solver" }).snapshot_prefix).toBe("solver")
    expect(upgradeSolverAsNeeded(solver(`snapshot_prefix: "snaps/"`), { file: "a/lenet_solver.prototxt" }).snapshot_prefix).toBe("snaps/lenet_solver")
    expect(upgradeSolverAsNeeded(solver(`snapshot_prefix: "snaps"`), { file: "a/lenet_solver.prototxt" }).snapshot_prefix).toBe("snaps")
    expect(
      upgradeSolverAsNeeded(solver(`snapshot_prefix: "snaps"`), { file: "a/lenet_solver.prototxt", isDirectory: (p) => p === "snaps" }).snapshot_prefix
    ).toBe("snaps/lenet_solver")
    // Without a file name there is nothing to derive a prefix from.
    expect(upgradeSolverAsNeeded(solver(""))).toEqual({})
  })

  it("upgrades inline nets (net_param, train_net_param, test_net_param) with the file named in logs", () => {
    const lines: Array<string> = []
    const up = upgradeSolverAsNeeded(
      solver(`
        train_net_param { layers { name: "a" type: RELU blobs_lr: 0 weight_decay: 0 } }
        test_net_param { input: "x" input_dim: [1, 1, 1, 1] }
        test_net_param { layers { name: "b" type: SOFTMAX_LOSS } }`),
      { file: "s.prototxt", log: (_l, m) => lines.push(m) }
    )
    expect(up.train_net_param).toEqual({ layer: [{ name: "a", type: "ReLU", param: [{ lr_mult: 0, decay_mult: 0 }] }] })
    expect(up.test_net_param).toEqual([
      { layer: [{ name: "input", type: "Input", top: ["x"], input_param: { shape: [{ dim: [1, 1, 1, 1] }] } }] },
      { layer: [{ name: "b", type: "SoftmaxWithLoss" }] }
    ])
    expect(lines).toContain("Attempting to upgrade input file specified using deprecated V1LayerParameter: s.prototxt (test_net_param[1])")
  })
})
