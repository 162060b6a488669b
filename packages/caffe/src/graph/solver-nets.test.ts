import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { NetParameter, SolverParameter } from "../schema/types.js"
import { readNetPrototxtSync } from "../text/readPrototxt.js"
import { SolverNetsError } from "./errors.js"
import { buildNetGraph } from "./net-graph.js"
import { resolveSolverNets } from "./solver-nets.js"
import { withSolverDefaults } from "./solver-defaults.js"
import { caffeZoo, repoRoot, repoSolver, zooFile, zooSolver } from "../../test/support/caffe-zoo.js"

// Net files resolve from the working directory, as in Caffe: the repository root for its own copy of
// Caffe's LeNet files, the Caffe checkout for the rest of the model zoo (skipped without one).
const fromRepo = { readNet: (f: string) => readNetPrototxtSync(f), cwd: repoRoot }
const fromZoo = () => ({ readNet: (f: string) => readNetPrototxtSync(f), cwd: zooFile(".") })
const zooIt = it.skipIf(caffeZoo === undefined)

describe("solver net resolution", () => {
  it("lenet_solver: net file read from the working directory; one test net in TEST", () => {
    const nets = resolveSolverNets(repoSolver("examples/mnist/lenet_solver.prototxt"), fromRepo)
    expect(nets.train.source).toBe("net file: examples/mnist/lenet_train_test.prototxt")
    expect(nets.train.file).toBe(path.join(repoRoot, "examples/mnist/lenet_train_test.prototxt"))
    expect(nets.train.state).toEqual({ phase: "TRAIN" })
    expect(nets.test).toHaveLength(1)
    expect(nets.test[0]!).toMatchObject({ role: "test", state: { phase: "TEST" }, testIter: 100 })
    expect(buildNetGraph(nets.test[0]!.net).outputs).toEqual(["accuracy", "loss"])
  })

  zooIt("lenet_consolidated_solver: inline V1 net_param, two test nets selected by test_state stages", () => {
    const nets = resolveSolverNets(zooSolver("examples/mnist/lenet_consolidated_solver.prototxt"), fromZoo())
    expect(nets.train.source).toBe("net_param")
    expect(nets.test.map((t) => [t.source, t.testIter, t.state])).toEqual([
      ["net_param", 100, { phase: "TEST", stage: ["test-on-test-set"] }],
      ["net_param", 600, { phase: "TEST", stage: ["test-on-train-set"] }]
    ])
    const sources = nets.test.map((t) => buildNetGraph(t.net).layers[0]!.param.data_param?.source)
    expect(sources).toEqual(["examples/mnist/mnist_test_lmdb", "examples/mnist/mnist_train_lmdb"])
    const train = buildNetGraph(nets.train.net)
    expect(train.layers[0]!.param.data_param?.source).toBe("examples/mnist/mnist_train_lmdb")
    expect(train.learnable.map((p) => p.lrMult)).toEqual([1, 2, 1, 2, 1, 2, 1, 2])
    // The consolidated net has no phase rule on its Accuracy layer: the train net reports it too.
    expect(train.outputs).toEqual(["accuracy", "loss"])
  })

  zooIt("mnist_autoencoder_solver: test_state stages pick the data layers of the two test nets", () => {
    const nets = resolveSolverNets(zooSolver("examples/mnist/mnist_autoencoder_solver.prototxt"), fromZoo())
    const sources = nets.test.map((t) => buildNetGraph(t.net).layers[0]!.param.data_param?.source)
    expect(sources).toEqual(["examples/mnist/mnist_train_lmdb", "examples/mnist/mnist_test_lmdb"])
    expect(nets.test.map((t) => t.testIter)).toEqual([500, 100])
  })

  it("order test_net_param, test_net, then the generic net; states merge (phase, net.state, test_state)", () => {
    const inline = (name: string): NetParameter => ({ name, state: { level: 2, stage: ["own"] } })
    const read = (f: string): NetParameter => ({ name: `file:${path.basename(f)}` })
    const solver: SolverParameter = {
      net_param: inline("generic"),
      test_net_param: [inline("tp")],
      test_net: ["t.prototxt"],
      test_iter: [1, 2, 3, 4],
      test_interval: 10,
      test_state: [{}, { phase: "TRAIN" }, { stage: ["x"] }, { level: 5 }],
      train_state: { stage: ["t"] }
    }
    const nets = resolveSolverNets(solver, { readNet: read, cwd: "/w" })
    expect(nets.test.map((t) => t.net.name)).toEqual(["tp", "file:t.prototxt", "generic", "generic"])
    expect(nets.test[1]!.file).toBe("/w/t.prototxt")
    expect(nets.test.map((t) => t.state)).toEqual([
      { phase: "TEST", level: 2, stage: ["own"] },
      { phase: "TRAIN" },
      { phase: "TEST", level: 2, stage: ["own", "x"] },
      { phase: "TEST", level: 5, stage: ["own"] }
    ])
    expect(nets.train.state).toEqual({ phase: "TRAIN", level: 2, stage: ["own", "t"] })
  })

  it("validation: one train net, test_iter per test net, test_state count, test_interval", () => {
    const read = (): NetParameter => ({})
    const resolve = (s: SolverParameter) => () => resolveSolverNets(s, { readNet: read })
    expect(resolve({})).toThrow(SolverNetsError)
    expect(resolve({ net: "a", train_net: "b" })).toThrow(/more than one/)
    expect(resolve({ train_net: "a", test_net: ["b"] })).toThrow(/test_iter must be specified for each test network/)
    expect(resolve({ net: "a", test_iter: [1], test_state: [{}, {}], test_interval: 1 })).toThrow(/test_state/)
    expect(resolve({ net: "a", test_iter: [1] })).toThrow(/test_interval/)
    expect(resolveSolverNets({ net: "a" }, { readNet: read }).test).toHaveLength(0)
  })

  it("withSolverDefaults fills Caffe's defaults", () => {
    const s = withSolverDefaults(repoSolver("examples/mnist/lenet_solver.prototxt"))
    expect(s).toMatchObject({ type: "SGD", momentum2: Math.fround(0.999), delta: Math.fround(1e-8), iter_size: 1, snapshot_format: "BINARYPROTO", test_initialization: true, random_seed: -1, base_lr: 0.01, lr_policy: "inv" })
    expect(s.snapshot_prefix).toBe("examples/mnist/lenet")
  })
})
