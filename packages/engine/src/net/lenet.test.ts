import { decode, encode, readCaffemodelSync, readNetPrototxtSync, type LayerParameter } from "@deepspark/caffe"
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { DataBatchSource, DataSourceFactory } from "../layers/data.js"
import { mnistDir, mnistIdxSource } from "../../test/support/mnist-idx-source.js"
import { Net } from "./net.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")
// Caffe's LeNet (the repository's verbatim copy) and Caffe's recorded seed-1701 run (test/fixtures).
const lenetPrototxt = path.join(repoRoot, "examples/mnist/lenet_train_test.prototxt")
const seed1701 = path.join(repoRoot, "test/fixtures/caffe/reference/lenet-seed1701")
const initModel = path.join(seed1701, "lenet_seed1701_iter_0_init.caffemodel")

const lenet = (phase: "TRAIN" | "TEST") =>
  new Net(readNetPrototxtSync(lenetPrototxt), { state: { phase }, services: { dataSourceFactory: mnistIdxSource } })

describe("LeNet (lenet_train_test.prototxt)", () => {
  it("has Caffe's layers, blob shapes, outputs and 431,080 learnable values", () => {
    const train = lenet("TRAIN")
    expect(train.name).toBe("LeNet")
    expect(train.layerNames).toEqual(["mnist", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "loss"])
    const shapes = Object.fromEntries(["data", "label", "conv1", "pool1", "conv2", "pool2", "ip1", "ip2", "loss"].map((b) => [b, train.blobByName(b)!.shape]))
    expect(shapes).toEqual({
      data: [64, 1, 28, 28],
      label: [64],
      conv1: [64, 20, 24, 24],
      pool1: [64, 20, 12, 12],
      conv2: [64, 50, 8, 8],
      pool2: [64, 50, 4, 4],
      ip1: [64, 500],
      ip2: [64, 10],
      loss: []
    })
    expect(train.learnableParams().reduce((n, p) => n + p.blob.count, 0)).toBe(431080)
    expect(train.learnableParams().map((p) => [p.layerName, p.lrMult])).toEqual([
      ["conv1", 1], ["conv1", 2], ["conv2", 1], ["conv2", 2], ["ip1", 1], ["ip1", 2], ["ip2", 1], ["ip2", 2]
    ])
    expect(train.outputBlobs().map((o) => o.name)).toEqual(["loss"])
    const test = lenet("TEST")
    expect(test.blobByName("data")!.shape).toEqual([100, 1, 28, 28])
    expect(test.layerNames).toContain("ip2_ip2_0_split")
    expect(test.outputBlobs().map((o) => o.name)).toEqual(["accuracy", "loss"])
  })

  // One reference-backend forward/backward (the slow oracle), shared by the tests below.
  let referenceRun: { loss: number; diffs: Float32Array[]; log: string[] } | undefined
  const reference = () => {
    if (referenceRun) return referenceRun
    const train = lenet("TRAIN")
    const log: string[] = []
    train.copyTrainedLayersFrom(readCaffemodelSync(initModel), { log: (l) => log.push(l), file: initModel })
    train.clearParamDiffs()
    const loss = train.forwardBackward()
    referenceRun = { loss, diffs: train.learnableParams().map((p) => p.blob.diff.slice(0, p.blob.count)), log }
    return referenceRun
  }

  it("with Caffe's seed-1701 initial weights, the first training batch gives Caffe's iteration-0 loss 2.32814", () => {
    const { loss, diffs, log } = reference()
    expect(log.every((l) => l.startsWith("Ignoring source layer"))).toBe(true)
    expect(Number.isFinite(loss)).toBe(true)
    expect(loss).toBeCloseTo(2.32814, 4)
    // backward gives finite, non-zero gradients everywhere
    for (const d of diffs) {
      expect(d.every(Number.isFinite)).toBe(true)
      expect(d.some((v) => v !== 0)).toBe(true)
    }
  })

  it("the cpu (WebAssembly) backend gives the same loss and gradients as the reference backend", async () => {
    const { createCpuBackend } = await import("../backend/cpu/cpu-backend.js")
    const net = new Net(readNetPrototxtSync(lenetPrototxt), { state: { phase: "TRAIN" }, services: { dataSourceFactory: mnistIdxSource }, backend: await createCpuBackend() })
    net.copyTrainedLayersFrom(readCaffemodelSync(initModel))
    net.clearParamDiffs()
    const loss = net.forwardBackward()
    const ref = reference()
    expect(loss).toBeCloseTo(ref.loss, 5)
    net.learnableParams().forEach((p, k) => {
      const r = ref.diffs[k]!
      const scale = r.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
      for (let i = 0; i < p.blob.count; i += 97) expect(Math.abs(p.blob.diff[i]! - r[i]!)).toBeLessThan(1e-4 * scale + 1e-7)
    })
  })

  it("toProto → encode → decode → copyTrainedLayersFrom is bit-identical; the test net shares the train net's weights", () => {
    const train = lenet("TRAIN")
    train.copyTrainedLayersFrom(readCaffemodelSync(initModel))
    const bytes = encode("NetParameter", train.toProto({ writeDiff: false }))
    const copy = lenet("TRAIN")
    copy.copyTrainedLayersFrom(decode("NetParameter", bytes))
    train.learnableParams().forEach((p, i) => {
      const q = copy.learnableParams()[i]!.blob
      expect(Buffer.from(q.data.buffer, q.data.byteOffset, q.count * 4).equals(Buffer.from(p.blob.data.buffer, p.blob.data.byteOffset, p.blob.count * 4))).toBe(true)
    })
    // The saved net is a runtime net: phase, loss_weight on the loss layer, no blobs on data layers.
    const saved = decode("NetParameter", bytes)
    expect(saved.layer!.map((l) => l.name)).toEqual(train.layerNames)
    expect(saved.layer!.find((l) => l.name === "loss")!.loss_weight).toEqual([1])
    expect(saved.layer!.every((l) => l.phase === "TRAIN")).toBe(true)
    const test = lenet("TEST")
    test.shareTrainedLayersWith(train)
    expect(test.layerByName("conv1")!.blobs[0]!.data).toBe(train.layerByName("conv1")!.blobs[0]!.data)
  })
})

describe("LeNet fed from an LMDB through @deepspark/data", () => {
  it("the Data layer reads Caffe's MNIST records and reproduces the iteration-0 loss", async () => {
    const { createDatumDb, encodeDatum, formatInt } = await import("@deepspark/data")
    const { openNetDataSources } = await import("./data-sources.js")
    const { mkdtempSync, rmSync } = await import("node:fs")
    const os = await import("node:os")
    const { Rng } = await import("../core/rng.js")
    const dir = mkdtempSync(path.join(os.tmpdir(), "lenet-lmdb-"))
    try {
      // The first 100 training items, as convert_mnist_data writes them.
      const images = readFileSync(path.join(mnistDir, "train-images-idx3-ubyte"))
      const labels = readFileSync(path.join(mnistDir, "train-labels-idx1-ubyte"))
      const db = await createDatumDb(path.join(dir, "examples/mnist/mnist_train_lmdb"), "lmdb")
      for (let i = 0; i < 100; i++)
        await db.put(formatInt(i, 8), encodeDatum({ channels: 1, height: 28, width: 28, data: images.subarray(16 + i * 784, 16 + (i + 1) * 784), label: labels[8 + i]! }))
      await db.close()
      const param = readNetPrototxtSync(lenetPrototxt)
      const data = await openNetDataSources(param, { state: { phase: "TRAIN" }, rng: new Rng(1), baseDir: dir })
      try {
        // The data path is under test here, so the fast backend computes.
        const { createCpuBackend } = await import("../backend/cpu/cpu-backend.js")
        const net = new Net(param, { state: { phase: "TRAIN" }, services: { dataSourceFactory: data.factory }, backend: await createCpuBackend() })
        net.copyTrainedLayersFrom(readCaffemodelSync(initModel))
        expect(net.forward()).toBeCloseTo(2.32814, 4)
      } finally {
        await data.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("LeNet net initialization log", () => {
  // Caffe's log of the seed-1701 run: glog prefixes removed, continuation lines joined to their message.
  const caffeMessages = (): string[] => {
    const out: string[] = []
    for (const l of readFileSync(path.join(seed1701, "caffe_train_20iter.log"), "utf8").split("\n")) {
      const m = /^[IWEF]\d{4,8} [\d:.]+ +\d+ (\S+\] .*)$/.exec(l)
      if (m) out.push(m[1]!)
      else if (out.length > 0) out[out.length - 1] += `\n${l}`
    }
    // The message ends with DebugString's newline, which glog does not double in the file; the reference
    // run pointed the sources elsewhere ("./././examples/mnist/mnist_train_lmdb", "mnist_test_lmdb").
    return out.map((m) =>
      m.includes("Initializing net from parameters")
        ? `${m.replace(/source: "(?:\.\/)*(?:examples\/mnist\/)?(mnist_\w+_lmdb)"/, 'source: "examples/mnist/$1"')}\n`
        : m
    )
  }
  /** The net.cpp block of one net: from its first filter line to "Network initialization done.", without the LMDB reader's lines. */
  const block = (messages: string[], which: number): string[] => {
    const starts = messages.flatMap((m, i) => (m.startsWith("net.cpp:296]") && !messages[i - 1]!.startsWith("net.cpp:296]") ? [i] : []))
    const ends = messages.flatMap((m, i) => (m.endsWith("Network initialization done.") ? [i] : []))
    return messages.slice(starts[which], ends[which]! + 1).filter((m) => !m.startsWith("db_lmdb.cpp"))
  }
  const ours = (state: { phase: "TRAIN" | "TEST"; level?: number; stage?: string[] }) => {
    const lines: string[] = []
    const logger = { info: (m: string, site?: string) => lines.push(`${site}] ${m}`) }
    new Net(readNetPrototxtSync(lenetPrototxt), { state, services: { dataSourceFactory: mnistIdxSource }, logger })
    return lines
  }

  it("reproduces the train net's net.cpp lines of Caffe's seed-1701 log (messages, sites, echoed net)", () => {
    expect(ours({ phase: "TRAIN", level: 0, stage: [""] })).toEqual(block(caffeMessages(), 0))
  })
  it("and the test net's (Split layers, two outputs)", () => {
    expect(ours({ phase: "TEST" })).toEqual(block(caffeMessages(), 1))
  })
})
