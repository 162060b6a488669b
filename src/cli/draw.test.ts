import { readNetPrototxtSync } from "@deepspark/caffe"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import type { CliIo } from "./command.js"
import { runCli } from "./run-cli.js"

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-draw-"))

const run = async (...argv: string[]) => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd: repoRoot }
  return { code: await runCli(argv, io), out, err }
}

describe("Caffe's CLI habits: deepspark draw, --version", () => {
  it("draw NET OUT.svg draws every layer as a box and every blob version as an octagon, edges bottom → layer → top", async () => {
    const out = path.join(tmp, "lenet.svg")
    const r = await run("draw", "examples/mnist/lenet_train_test.prototxt", out)
    expect(r.code).toBe(0)
    const svg = fs.readFileSync(out, "utf8")
    const net = readNetPrototxtSync(path.join(repoRoot, "examples/mnist/lenet_train_test.prototxt"))
    const layers = net.layer ?? []
    expect(svg.match(/class="layer"/g)).toHaveLength(layers.length)
    expect(svg.match(/class="edge"/g)).toHaveLength(layers.reduce((n, l) => n + (l.bottom?.length ?? 0) + (l.top?.length ?? 0), 0))
    expect(svg).toContain("conv1 (Convolution)")
    expect(svg).toContain("kernel size: 5, stride: 1, pad: 0, outputs: 20")
    expect(svg).toContain("MAX pool, kernel size: 2, stride: 2")
    // relu1 works in place on ip1: a second ip1 node, so the graph has no cycle.
    expect(svg.match(/>ip1</g)).toHaveLength(2)

    const train = path.join(tmp, "lenet-train.svg")
    expect((await run("draw", "examples/mnist/lenet_train_test.prototxt", train, "--phase", "TRAIN", "--rankdir", "TB")).code).toBe(0)
    const trainSvg = fs.readFileSync(train, "utf8")
    expect(trainSvg.match(/class="layer"/g)).toHaveLength(layers.length - 2) // one Data layer and accuracy are TEST-only
    expect(trainSvg).not.toContain("accuracy (Accuracy)")
  })

  it("draw without an output file is a usage error; a missing net is one line naming it", async () => {
    expect((await run("draw", "examples/mnist/lenet.prototxt")).code).toBe(2)
    const missing = await run("draw", "no/such.prototxt", path.join(tmp, "x.svg"))
    expect(missing.code).toBe(1)
    expect(missing.err.join("\n")).toContain("no/such.prototxt")
  })

  it("--version prints the package's version, as caffe --version does", async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }
    for (const flag of ["--version", "-version"]) {
      const r = await run(flag)
      expect(r.code).toBe(0)
      expect(r.out).toEqual([`deepspark version ${pkg.version}`])
    }
  })
})
