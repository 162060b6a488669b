import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { NetParameter } from "../schema/types.js"
import { blobData, blobShape } from "./blob.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"
import { ProtoDecodeError } from "./errors.js"
import { readCaffemodel, readCaffemodelSync, writeCaffemodel, writeCaffemodelSync } from "./files.js"
import { upgradeNetAsNeeded } from "../upgrade/upgradeNet.js"
import { makeBlobProto } from "./blob.js"

import { caffeReference } from "../../test/support/caffe-zoo.js"

const refDir = path.join(caffeReference, "lenet-seed1701")
const initModel = path.join(refDir, "lenet_seed1701_iter_0_init.caffemodel")
const iter20Model = path.join(refDir, "lenet_seed1701_iter_20.caffemodel")

interface BlobStat {
  layer: string
  index: number
  shape: Array<number>
  count: number
  mean: number
  std: number
  min: number
  max: number
  sum: number
}

const readBlobStats = (): Array<BlobStat> =>
  readFileSync(path.join(refDir, "lenet_seed1701_iter_0_init_blobstats.txt"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => {
      const [layer, index, shape, count, mean, std, min, max, sum] = l.trim().split(/\s+/)
      return {
        layer: layer!,
        index: Number(index),
        shape: shape!.split("x").map(Number),
        count: Number(count),
        mean: Number(mean),
        std: Number(std),
        min: Number(min),
        max: Number(max),
        sum: Number(sum)
      }
    })

const tmp = mkdtempSync(path.join(tmpdir(), "caffemodel-test-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("reference LeNet caffemodels", () => {
  it("decode with the blob shapes, counts and statistics of the blobstats file", () => {
    const net = readCaffemodelSync(initModel)
    expect(net.name).toBe("LeNet")
    const stats = readBlobStats()
    expect(stats.length).toBe(8)
    for (const s of stats) {
      const layer = net.layer!.find((l) => l.name === s.layer)!
      const blob = layer.blobs![s.index]!
      expect(blobShape(blob)).toEqual(s.shape)
      const data = blobData(blob)
      expect(data).toBeInstanceOf(Float32Array)
      expect(data.length).toBe(s.count)
      let sum = 0
      let sumSq = 0
      let min = Infinity
      let max = -Infinity
      for (const v of data) {
        sum += v
        sumSq += v * v
        if (v < min) min = v
        if (v > max) max = v
      }
      const mean = sum / s.count
      const std = Math.sqrt(Math.max(0, sumSq / s.count - mean * mean))
      // the file prints 9 significant digits of float32 values
      expect(min).toBe(Math.fround(s.min))
      expect(max).toBe(Math.fround(s.max))
      expect(Math.abs(sum - s.sum)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(s.sum)))
      expect(Math.abs(mean - s.mean)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(s.mean)))
      expect(Math.abs(std - s.std)).toBeLessThanOrEqual(1e-6 * Math.max(1e-3, s.std))
    }
  })

  for (const file of [initModel, iter20Model]) {
    it(`re-encodes ${path.basename(file)} byte-identically`, () => {
      const bytes = readFileSync(file)
      const net = decode("NetParameter", bytes)
      expect(net.layer!.map((l) => l.type)).toEqual([
        "Data", "Convolution", "Pooling", "Convolution", "Pooling", "InnerProduct", "ReLU", "InnerProduct", "SoftmaxWithLoss"
      ])
      const again = encode("NetParameter", net)
      expect(again.length).toBe(bytes.length)
      expect(Buffer.compare(Buffer.from(again), bytes)).toBe(0)
    })
  }

  it("keeps the runtime layer fields Caffe saves (phase, loss_weight, params, includes)", () => {
    const net = readCaffemodelSync(initModel)
    const data = net.layer![0]!
    expect(data.phase).toBe("TRAIN")
    expect(data.include).toEqual([{ phase: "TRAIN" }])
    expect(data.data_param).toEqual({ source: "./././examples/mnist/mnist_train_lmdb", batch_size: 64, backend: "LMDB" })
    expect(data.transform_param).toEqual({ scale: 0.00390625 })
    expect(net.layer![8]!.loss_weight).toEqual([1])
    expect(net.layer![1]!.param).toEqual([{ lr_mult: 1 }, { lr_mult: 2 }])
    expect(net.layer![1]!.convolution_param!.weight_filler).toEqual({ type: "xavier" })
  })

  it("the iteration-20 weights differ from the initial ones", () => {
    const a = readCaffemodelSync(initModel)
    const b = readCaffemodelSync(iter20Model)
    expect(blobData(a.layer![1]!.blobs![0]!)).not.toEqual(blobData(b.layer![1]!.blobs![0]!))
  })

  it("writes atomically and reads back through the Effect API", async () => {
    // As stored, without Caffe's upgrade, so that writing it back is byte-identical.
    const net = readCaffemodelSync(initModel, { upgrade: false })
    const out = path.join(tmp, "copy.caffemodel")
    await Effect.runPromise(writeCaffemodel(out, net))
    expect(Buffer.compare(readFileSync(out), readFileSync(initModel))).toBe(0)
    const back: NetParameter = await Effect.runPromise(readCaffemodel(out))
    const w = blobData(back.layer![5]!.blobs![0]!)
    expect(w.length).toBe(400_000)
    expect(Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(blobData(net.layer![5]!.blobs![0]!).buffer))).toBe(true)
    writeCaffemodelSync(out, { name: "tiny" })
    expect(readCaffemodelSync(out)).toEqual({ name: "tiny" })
    // no temporary files left behind
    expect(readdirSync(tmp)).toEqual(["copy.caffemodel"])
  })

  it("reports a missing file as CaffeFileError and a truncated one as ProtoDecodeError naming the file", async () => {
    const missing = await Effect.runPromise(Effect.flip(readCaffemodel(path.join(tmp, "nope.caffemodel"))))
    expect(missing._tag).toBe("CaffeFileError")
    const cut = path.join(tmp, "cut.caffemodel")
    writeCaffemodelSync(cut, readCaffemodelSync(initModel))
    const bytes = readFileSync(cut)
    const { writeFileSync } = await import("node:fs")
    writeFileSync(cut, bytes.subarray(0, 1_000_000))
    const err = await Effect.runPromise(Effect.flip(readCaffemodel(cut)))
    expect(err._tag).toBe("ProtoDecodeError")
    if (err._tag === "ProtoDecodeError") {
      expect(err.file).toBe(cut)
      expect(err.fieldPath).toBe("layer[5]")
      expect(err.message).toContain(cut)
    }
    rmSync(cut)
  })

  it("raises ProtoDecodeError for truncations inside fields (sampled cut points)", () => {
    const bytes = readFileSync(initModel)
    const net = decode("NetParameter", bytes)
    // top-level field boundaries: after the name field and after each layer record
    const boundaries = new Set<number>([0, 7])
    let pos = 7 // "0a 05 LeNet"
    for (const layer of net.layer!) {
      const n = encode("LayerParameter", layer).length
      pos += 2 + (n < 128 ? 1 : n < 16384 ? 2 : 3) + n
      boundaries.add(pos)
    }
    expect(pos).toBe(bytes.length)
    let at = 0
    for (let i = 0; i < 97; i++) {
      at = (at + 17_783) % bytes.length
      const boundary = boundaries.has(at)
      if (boundary) continue
      expect(() => decode("NetParameter", bytes.subarray(0, at))).toThrow(ProtoDecodeError)
    }
  })
})

describe("caffemodels are upgraded on read, as ReadNetParamsFromBinaryFileOrDie does", () => {
  // A Model Zoo-era caffemodel: V1 `layers` with enum types and blobs_lr.
  const weights = makeBlobProto([2, 1, 3, 3], new Float32Array(18).map((_, i) => i / 10))
  const bias = makeBlobProto([2], new Float32Array([0.5, -0.5]))
  const v1: NetParameter = {
    name: "old",
    layers: [
      { name: "conv", type: "CONVOLUTION", bottom: ["data"], top: ["conv"], blobs: [weights, bias], blobs_lr: [1, 2], convolution_param: { num_output: 2, kernel_size: [3] } },
      { name: "loss", type: "SOFTMAX_LOSS", bottom: ["conv", "label"], top: ["loss"] }
    ]
  }

  it("a V1 caffemodel reads as V2 layers with their blobs; { upgrade: false } keeps what is stored", async () => {
    const file = path.join(tmp, "v1.caffemodel")
    writeCaffemodelSync(file, v1)
    const log: string[] = []
    const net = readCaffemodelSync(file, { log: (_level, line) => void log.push(line) })
    expect(net.layers).toBeUndefined()
    expect(net.layer!.map((l) => [l.name, l.type])).toEqual([["conv", "Convolution"], ["loss", "SoftmaxWithLoss"]])
    expect(net.layer![0]!.param).toEqual([{ lr_mult: 1 }, { lr_mult: 2 }])
    expect(blobData(net.layer![0]!.blobs![0]!)).toEqual(blobData(weights))
    expect(blobData(net.layer![0]!.blobs![1]!)).toEqual(new Float32Array([0.5, -0.5]))
    expect(log.some((l) => l.includes("V1LayerParameter") && l.includes(file))).toBe(true)
    expect(await Effect.runPromise(readCaffemodel(file))).toEqual(net)
    const stored = readCaffemodelSync(file, { upgrade: false })
    expect(stored.layer).toBeUndefined()
    expect(stored.layers!.map((l) => l.type)).toEqual(["CONVOLUTION", "SOFTMAX_LOSS"])
    rmSync(file)
  })

  it("upgrading again changes nothing: a current caffemodel, or one already upgraded on read", () => {
    // (Blob data compared as bytes: a deep toEqual over 431,080 floats takes seconds.)
    const withoutBlobs = (n: NetParameter) => ({ ...n, layer: n.layer!.map(({ blobs, ...l }) => ({ ...l, blobCount: blobs?.length ?? 0 })) })
    const blobBytes = (n: NetParameter) =>
      n.layer!.flatMap((l) => (l.blobs ?? []).map((b) => Buffer.from(blobData(b).buffer, blobData(b).byteOffset, blobData(b).byteLength)))
    const sameNet = (a: NetParameter, b: NetParameter) => {
      expect(withoutBlobs(a)).toEqual(withoutBlobs(b))
      const [x, y] = [blobBytes(a), blobBytes(b)]
      expect(x.length).toBe(y.length)
      x.forEach((bytes, i) => expect(bytes.equals(y[i]!)).toBe(true))
    }
    const current = readCaffemodelSync(initModel, { upgrade: false })
    const log: string[] = []
    sameNet(upgradeNetAsNeeded(current, { log: (_level, line) => void log.push(line) }), current)
    sameNet(readCaffemodelSync(initModel), current)
    expect(log).toEqual([])
    const once = upgradeNetAsNeeded(v1)
    expect(upgradeNetAsNeeded(once)).toEqual(once)
  })

  it("Caffe's fatal upgrade cases fail the read with UpgradeError", async () => {
    const file = path.join(tmp, "both.caffemodel")
    writeCaffemodelSync(file, { name: "both", layer: [{ name: "a", type: "ReLU" }], layers: [{ name: "b", type: "RELU" }] })
    expect(() => readCaffemodelSync(file)).toThrow(/both/)
    const err = await Effect.runPromise(Effect.flip(readCaffemodel(file)))
    expect(err._tag).toBe("UpgradeError")
    expect(readCaffemodelSync(file, { upgrade: false }).layers).toHaveLength(1)
    rmSync(file)
  })
})
