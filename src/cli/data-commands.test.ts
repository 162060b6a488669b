import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { mnistPackageFiles, openDatumDb } from "@deepspark/data"
import type { CommandIo } from "./data-args.js"
import { dataCommands } from "./data-commands.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-cli-data-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const capture = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const io: CommandIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }
  return { io, out, err }
}

describe("data commands", () => {
  it("data mnist --out DIR writes mnist_train_lmdb and mnist_test_lmdb in seconds", async () => {
    const { io, out } = capture()
    const started = Date.now()
    expect(await dataCommands.data!(["mnist", "--out", tmp], io)).toBe(0)
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(out.join("\n")).toMatch(/mnist_train_lmdb: 60000 records[\s\S]*mnist_test_lmdb: 10000 records/)
    const train = await openDatumDb(path.join(tmp, "mnist_train_lmdb"), "lmdb")
    expect(train.count()).toBe(60000)
    expect(train.get("00059999")!.length).toBe(795)
    await train.close()
  })

  it("convert-mnist, compute-mean and usage / input errors", async () => {
    const f = mnistPackageFiles()
    const c = capture()
    const db = path.join(tmp, "t10k_leveldb")
    expect(await dataCommands["convert-mnist"]!([f.testImages, f.testLabels, db, "--backend", "leveldb"], c.io)).toBe(0)
    const mean = path.join(tmp, "mean.binaryproto")
    expect(await dataCommands["compute-mean"]!([db, mean, "--backend=leveldb"], c.io)).toBe(0)
    expect(readFileSync(mean).subarray(0, 8)).toEqual(Buffer.from([8, 1, 0x10, 1, 0x18, 28, 0x20, 28]))
    expect(c.out.join("\n")).toMatch(/mean_value channel \[0\]: 33\.\d+/)
    const bad = capture()
    expect(await dataCommands["convert-mnist"]!([f.testLabels, f.testLabels, path.join(tmp, "x")], bad.io)).toBe(1)
    expect(bad.err.join("")).toMatch(/t10k-labels-idx1-ubyte: magic number 2049 is not an IDX image file/)
    const usage = capture()
    expect(await dataCommands["convert-imageset"]!(["a", "b"], usage.io)).toBe(2)
    expect(usage.err.join("")).toMatch(/usage: deepspark convert-imageset/)
    expect(await dataCommands["convert-cifar"]!(["in", "out", "--bogus"], usage.io)).toBe(2)
  })
})
