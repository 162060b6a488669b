import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import sharp from "sharp"
import { afterAll, describe, expect, it } from "vitest"
import { mnistPackageFiles, openDatumDb } from "@deepspark/data"
import type { CliIo as CommandIo } from "./command.js"
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

  it("convert-imageset --check_size stops at the first image of another size, naming the list line and the image", async () => {
    const root = path.join(tmp, "imgs")
    mkdirSync(root, { recursive: true })
    await sharp(Buffer.alloc(2 * 3 * 3, 7), { raw: { width: 3, height: 2, channels: 3 } }).png().toFile(path.join(root, "a.png"))
    await sharp(Buffer.alloc(4 * 3 * 3, 9), { raw: { width: 3, height: 4, channels: 3 } }).png().toFile(path.join(root, "b.png"))
    writeFileSync(path.join(tmp, "list.txt"), "a.png 0\nb.png 1\n")
    const ok = capture()
    expect(await dataCommands["convert-imageset"]!([root, path.join(tmp, "list.txt"), path.join(tmp, "set_lmdb")], ok.io)).toBe(0)
    expect(ok.out.join("")).toMatch(/set_lmdb: 2 records/)
    const checked = capture()
    expect(await dataCommands["convert-imageset"]!([root, path.join(tmp, "list.txt"), path.join(tmp, "checked_lmdb"), "--check_size"], checked.io)).toBe(1)
    expect(checked.err.join("")).toMatch(/^error: .*list\.txt:2: image .*b\.png is 3×4×3 \(channels×height×width\), expected 3×2×3 like the first image/)
  })
})
