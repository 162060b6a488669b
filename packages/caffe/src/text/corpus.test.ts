import * as fs from "node:fs"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import type { NetParameter, SolverParameter } from "../schema/types.js"
import { caffeZoo, isSolverFile, repoCaffePrototxts, repoFile, zooFile, zooPrototxts } from "../../test/support/caffe-zoo.js"
import { parsePrototxt, printPrototxt } from "./prototxt.js"
import { PrototxtError } from "./PrototxtError.js"
import { parsePrototxtEffect } from "./prototxt.js"
import { readNetPrototxt, readNetPrototxtSync, readSolverPrototxt, readSolverPrototxtSync } from "./readPrototxt.js"

/** Parses, prints, re-parses and upgrades one real file: `file` names it, `full` is where it is. */
const roundTrips = (file: string, full: string): void => {
  const kind = isSolverFile(file) ? "SolverParameter" : "NetParameter"
  const parsed = parsePrototxt(kind, fs.readFileSync(full, "utf8"), { file })
  expect(Object.keys(parsed).length).toBeGreaterThan(0)
  const printed = printPrototxt(kind, parsed)
  expect(parsePrototxt(kind, printed)).toEqual(parsed)
  expect(printPrototxt(kind, parsePrototxt(kind, printed))).toBe(printed)

  const levels: Array<string> = []
  const log = (level: string) => levels.push(level)
  const nets: Array<NetParameter> = []
  if (kind === "SolverParameter") {
    const solver = readSolverPrototxtSync(full, { log })
    expect(solver.solver_type).toBeUndefined()
    expect(typeof solver.snapshot_prefix).toBe("string")
    for (const n of [solver.net_param, solver.train_net_param, ...(solver.test_net_param ?? [])]) if (n) nets.push(n)
  } else {
    nets.push(readNetPrototxtSync(full, { log }))
  }
  expect(levels).not.toContain("error")
  for (const net of nets) {
    expect(net.layers).toBeUndefined()
    expect(net.input).toBeUndefined()
    for (const layer of net.layer ?? []) expect(typeof layer.type).toBe("string")
    // The upgraded net prints and parses back too.
    expect(parsePrototxt("NetParameter", printPrototxt("NetParameter", net))).toEqual(net)
  }
}

const kindOf = (file: string): string => (isSolverFile(file) ? "SolverParameter" : "NetParameter")

describe("Caffe's files in the repository (examples/mnist, test/fixtures)", () => {
  const files = repoCaffePrototxts()
  it("are there", () => expect(files).toContain("examples/mnist/lenet_train_test.prototxt"))
  for (const file of files)
    it(`${file}: parses as ${kindOf(file)}, prints, re-parses identically and upgrades cleanly`, () => roundTrips(file, repoFile(file)))
})

describe.skipIf(caffeZoo === undefined)("Caffe's model zoo (DEEPSPARK_CAFFE_ROOT or ../shared/caffe)", () => {
  for (const file of caffeZoo === undefined ? [] : zooPrototxts())
    it(`${file}: parses as ${kindOf(file)}, prints, re-parses identically and upgrades cleanly`, () => roundTrips(file, zooFile(file)))
})

describe.skipIf(caffeZoo === undefined)("real-file specifics of Caffe's model zoo", () => {
  it("lenet_consolidated_solver: V1 inline net_param → V2, blobs_lr → lr_mult, two test stages kept", () => {
    const logs: Array<string> = []
    const solver: SolverParameter = readSolverPrototxtSync(zooFile("examples/mnist/lenet_consolidated_solver.prototxt"), {
      log: (_level, message) => logs.push(message)
    })
    expect(logs.some((l) => l.startsWith("Attempting to upgrade input file specified using deprecated V1LayerParameter:"))).toBe(true)
    expect(logs).toContain("Successfully upgraded file specified using deprecated V1LayerParameter")
    expect(solver.test_iter).toEqual([100, 600])
    expect(solver.test_state).toEqual([{ stage: ["test-on-test-set"] }, { stage: ["test-on-train-set"] }])
    expect(solver.snapshot_prefix).toBe("examples/mnist/lenet")
    const net = solver.net_param!
    expect(net.layers).toBeUndefined()
    const types = net.layer!.map((l) => l.type)
    expect(types).toEqual(["Data", "Data", "Data", "Convolution", "Pooling", "Convolution", "Pooling", "InnerProduct", "ReLU", "InnerProduct", "Accuracy", "SoftmaxWithLoss"])
    const conv1 = net.layer![3]!
    expect(conv1.name).toBe("conv1")
    expect(conv1.param).toEqual([{ lr_mult: 1 }, { lr_mult: 2 }])
    expect(conv1.convolution_param?.num_output).toBe(20)
    expect(net.layer![1]!.include).toEqual([{ phase: "TEST", stage: ["test-on-test-set"] }])
    expect(net.layer![0]!.data_param).toEqual({ source: "examples/mnist/mnist_train_lmdb", backend: "LMDB", batch_size: 64 })
    expect(net.layer![0]!.transform_param).toEqual({ scale: 0.00390625 })
  })

  it("cifar10_full_sigmoid_train_test_bn: BatchNorm's three param specs get lr_mult 0 and decay_mult 0", () => {
    const logs: Array<string> = []
    const net = readNetPrototxtSync(zooFile("examples/cifar10/cifar10_full_sigmoid_train_test_bn.prototxt"), {
      log: (_level, message) => logs.push(message)
    })
    const bns = net.layer!.filter((l) => l.type === "BatchNorm")
    expect(bns.length).toBe(3)
    for (const bn of bns) expect(bn.param).toEqual([0, 1, 2].map(() => ({ lr_mult: 0, decay_mult: 0 })))
    expect(logs).toContain("Successfully upgraded batch norm layers using deprecated params.")
    // Parsing alone does not upgrade.
    const raw = parsePrototxt("NetParameter", fs.readFileSync(zooFile("examples/cifar10/cifar10_full_sigmoid_train_test_bn.prototxt"), "utf8"))
    expect(raw.layer!.find((l) => l.type === "BatchNorm")!.param).toEqual([{ lr_mult: 0 }, { lr_mult: 0 }, { lr_mult: 0 }])
  })
})

describe("real-file specifics", () => {

  it("names file, line:column and the layer path in errors on a real net", () => {
    const text = fs.readFileSync(repoFile("examples/mnist/lenet_train_test.prototxt"), "utf8")
    const broken = text.replace("kernel_size: 5", "kernel_size: 5.5")
    const lineNo = broken.split("\n").findIndex((l) => l.includes("kernel_size: 5.5")) + 1
    const column = broken.split("\n")[lineNo - 1]!.indexOf("5.5") + 1
    try {
      parsePrototxt("NetParameter", broken, { file: "lenet_train_test.prototxt" })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(PrototxtError)
      const err = e as PrototxtError
      expect([err.line, err.column, err.path]).toEqual([lineNo, column, "layer[2].convolution_param.kernel_size"])
      expect(err.message).toBe(
        `lenet_train_test.prototxt:${lineNo}:${column}: layer[2].convolution_param.kernel_size: expected an integer for uint32 field "kernel_size", got "5.5"`
      )
    }
  })

  it("reports a missing file as a PrototxtError", () => {
    expect(() => readNetPrototxtSync(repoFile("no/such/file.prototxt"))).toThrow(PrototxtError)
  })
})

describe("Effect API", () => {
  it("reads and upgrades files as Effects, failing with the typed errors", () => {
    const net = Effect.runSync(readNetPrototxt(repoFile("examples/mnist/lenet.prototxt")))
    expect(net.layer![0]!.type).toBe("Input")
    const solver = Effect.runSync(readSolverPrototxt(repoFile("examples/mnist/lenet_solver_adam.prototxt")))
    expect(solver.type).toBe("Adam")
    const missing = Effect.runSync(Effect.either(readNetPrototxt(repoFile("missing.prototxt"))))
    expect(Either.isLeft(missing) && missing.left._tag).toBe("PrototxtError")
    const bad = Effect.runSync(Effect.either(parsePrototxtEffect("NetParameter", "layer {", { file: "x" })))
    expect(Either.isLeft(bad) && bad.left.message).toBe('x:1:7: layer[0]: unterminated block: "{" at 1:7 is never closed (end of file reached)')
    expect(Effect.runSync(parsePrototxtEffect("NetParameter", "\uFEFFname: 'n'"))).toEqual({ name: "n" })
  })
})
