import { describe, expect, it } from "vitest"
import { runCli } from "../src/cli/run-cli.js"
import { mnistWorkspace } from "./support/mnist-workspace.js"

const inspectJson = async (cwd: string, args: string[]) => {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(["inspect", ...args, "--json"], { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), cwd })
  return { code, json: JSON.parse(out.join("\n")), err }
}

describe("inspect reads Data-layer shapes from the first record of the database", () => {
  it("LeNet's Data layers get [64,1,28,28] (TRAIN) and [100,1,28,28] (TEST) when the LMDBs exist", async () => {
    const dir = await mnistWorkspace()
    const train = await inspectJson(dir, ["examples/mnist/lenet_train_test.prototxt", "--phase", "TRAIN"])
    expect(train.code).toBe(0)
    expect(train.json.blobs.data).toEqual([64, 1, 28, 28])
    expect(train.json.blobs.label).toEqual([64])
    expect(train.json.blobs.ip2).toEqual([64, 10])
    expect(train.json.paramCount).toBe(431080)
    const test = await inspectJson(dir, ["examples/mnist/lenet_train_test.prototxt", "--phase", "TEST"])
    expect(test.json.blobs.data).toEqual([100, 1, 28, 28])
    expect(test.json.blobs.accuracy).toEqual([])
  })

  it("without the databases the graph is still printed, with those shapes unknown", async () => {
    const dir = await mnistWorkspace()
    const { code, json } = await inspectJson("/", [`${dir}/examples/mnist/lenet_train_test.prototxt`, "--phase", "TRAIN"])
    expect(code).toBe(0)
    expect(json.blobs.data).toBeNull()
    expect(json.layers.map((l: { name: string }) => l.name)).toContain("ip2")
  })
})
