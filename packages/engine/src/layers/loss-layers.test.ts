import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeBlobProto, writeBinaryprotoSync } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { Rng } from "../core/rng.js"
import { ContrastiveLossLayer } from "./contrastive-loss.js"
import { EuclideanLossLayer } from "./euclidean-loss.js"
import { HingeLossLayer } from "./hinge-loss.js"
import { InfogainLossLayer } from "./infogain-loss.js"
import { blobOf, expectClose, expectGradientsOk, labelBlob, param, randomBlob, setUpForward, testContext, values } from "./layer-test-kit.js"
import { MultinomialLogisticLossLayer } from "./multinomial-logistic-loss.js"
import { SigmoidCrossEntropyLossLayer } from "./sigmoid-cross-entropy-loss.js"

/** The loss value of a 0-axis loss top. */
const loss = (top: Blob) => {
  expect(top.shape).toEqual([])
  return top.data[0]!
}

describe("SigmoidCrossEntropyLoss", () => {
  it("stable loss matches the float64 formula; BATCH_SIZE by default, other normalisations, ignore_label", () => {
    const x = blobOf([2, 3], [-30, -1, 0, 0.5, 2, 40])
    const t = blobOf([2, 3], [0, 1, 1, 0, 1, 1])
    const ref = values(x).map((v, i) => {
      const p = 1 / (1 + Math.exp(-v))
      const ti = t.data[i]!
      return -(ti * Math.log(Math.max(p, 1e-300)) + (1 - ti) * Math.log(Math.max(1 - p, 1e-300)))
    })
    const total = ref.reduce((a, b) => a + b, 0)
    const run = (p: object, target = t) => {
      const top = new Blob()
      const layer = new SigmoidCrossEntropyLossLayer(param({ type: "SigmoidCrossEntropyLoss", ...p }), testContext())
      setUpForward(layer, [x, target], [top])
      expect(layer.isLoss()).toBe(true)
      return loss(top)
    }
    expectClose([run({})], [total / 2], 1e-6)
    expectClose([run({ loss_param: { normalization: "FULL" } })], [total / 6], 1e-6)
    expectClose([run({ loss_param: { normalize: true } })], [total / 6], 1e-6)
    expectClose([run({ loss_param: { normalization: "NONE" } })], [total], 1e-6)
    const withIgnored = blobOf([2, 3], [0, 1, -1, 0, -1, 1])
    expectClose([run({ loss_param: { ignore_label: -1, normalization: "VALID" } }, withIgnored)], [(total - ref[2]! - ref[4]!) / 4], 1e-6)
  })

  it("gradients (bottom 0), with ignore_label, several shapes; labels refuse gradients", () => {
    const rng = new Rng(31)
    for (const shape of [[3, 4], [2, 3, 2, 2]]) {
      const x = randomBlob(shape, rng, -3, 3)
      const t = randomBlob(shape, rng, 0, 1)
      expectGradientsOk(new SigmoidCrossEntropyLossLayer(param({ type: "SigmoidCrossEntropyLoss" }), testContext()), [x, t], [new Blob()], { lossLayer: true, checkBottom: [0] })
      const hard = labelBlob(shape, rng, 2)
      hard.data[0] = -1
      expectGradientsOk(new SigmoidCrossEntropyLossLayer(param({ type: "SigmoidCrossEntropyLoss", loss_param: { ignore_label: -1 } }), testContext()), [x, hard], [new Blob()], { lossLayer: true, checkBottom: [0] })
    }
    const layer = new SigmoidCrossEntropyLossLayer(param({ name: "sce", type: "SigmoidCrossEntropyLoss" }), testContext())
    const top = new Blob()
    setUpForward(layer, [new Blob([2]), new Blob([2])], [top])
    expect(() => layer.backward([top], [true, true], [new Blob([2]), new Blob([2])])).toThrow(/sce.*label/)
  })
})

describe("EuclideanLoss", () => {
  it("Σ(a−b)²/(2N) and gradients to both bottoms", () => {
    const top = new Blob()
    setUpForward(new EuclideanLossLayer(param({ type: "EuclideanLoss" }), testContext()), [blobOf([2, 2], [1, 2, 3, 4]), blobOf([2, 2], [0, 0, 0, 1])], [top])
    expect(values(top)).toEqual([(1 + 4 + 9 + 9) / 4])
    const rng = new Rng(32)
    for (const shape of [[3, 4], [2, 3, 2, 3], [5]]) {
      const layer = new EuclideanLossLayer(param({ type: "EuclideanLoss" }), testContext())
      expect(layer.allowForceBackward(1)).toBe(true)
      expectGradientsOk(layer, [randomBlob(shape, rng), randomBlob(shape, rng)], [new Blob()], { lossLayer: true })
    }
  })
})

describe("ContrastiveLoss", () => {
  it("hand-computed loss, current and legacy forms", () => {
    const a = blobOf([2, 2, 1, 1], [0, 0, 0, 0])
    const b = blobOf([2, 2, 1, 1], [0.3, 0.4, 0.6, 0.8])
    const y = blobOf([2, 1, 1, 1], [1, 0])
    const top = new Blob()
    setUpForward(new ContrastiveLossLayer(param({ type: "ContrastiveLoss", contrastive_loss_param: { margin: 1.5 } }), testContext()), [a, b, y], [top])
    // similar: d² = 0.25; dissimilar: d = 1 → max(1.5 − 1, 0)² = 0.25; /(2·2)
    expectClose(values(top), [0.125], 1e-6)
    setUpForward(new ContrastiveLossLayer(param({ type: "ContrastiveLoss", contrastive_loss_param: { margin: 1.5, legacy_version: true } }), testContext()), [a, b, y], [top])
    expectClose(values(top), [(0.25 + 0.5) / 4], 1e-6)
  })

  it("gradients to both feature bottoms, both forms", () => {
    const rng = new Rng(33)
    for (const legacy_version of [false, true]) {
      const a = randomBlob([6, 3, 1, 1], rng)
      const b = randomBlob([6, 3, 1, 1], rng)
      const y = labelBlob([6, 1, 1, 1], rng, 2)
      expectGradientsOk(new ContrastiveLossLayer(param({ type: "ContrastiveLoss", contrastive_loss_param: { margin: 2.5, legacy_version } }), testContext()), [a, b, y], [new Blob()], {
        lossLayer: true,
        checkBottom: [0, 1]
      })
    }
  })
})

describe("HingeLoss", () => {
  it("L1 and L2 values", () => {
    const x = blobOf([2, 3], [0.5, -0.2, 2, 1.5, 0.1, -3])
    const l = blobOf([2], [2, 0])
    const top = new Blob()
    setUpForward(new HingeLossLayer(param({ type: "HingeLoss" }), testContext()), [x, l], [top])
    // item 0: t = [1.5, 0.8, max(0, 1−2)=0]; item 1: [max(0, 1−1.5)=0, 1.1, 0]
    expectClose(values(top), [(1.5 + 0.8 + 1.1) / 2], 1e-6)
    setUpForward(new HingeLossLayer(param({ type: "HingeLoss", hinge_loss_param: { norm: "L2" } }), testContext()), [x, l], [top])
    expectClose(values(top), [(2.25 + 0.64 + 1.21) / 2], 1e-6)
  })

  it("gradients for L1 and L2 (inputs kept away from the hinge at ±1)", () => {
    const rng = new Rng(34)
    for (const norm of ["L1", "L2"] as const) {
      const x = randomBlob([4, 5], rng, -2, 2, [-1, 1], 0.05)
      expectGradientsOk(new HingeLossLayer(param({ type: "HingeLoss", hinge_loss_param: { norm } }), testContext()), [x, labelBlob([4], rng, 5)], [new Blob()], { lossLayer: true, checkBottom: [0] })
    }
  })
})

describe("MultinomialLogisticLoss", () => {
  it("−Σ log p_label / N with the 1e-20 floor, and gradients", () => {
    const p = blobOf([2, 3, 1, 1], [0.2, 0.5, 0.3, 0, 0.9, 0.1])
    const l = blobOf([2, 1, 1, 1], [1, 0])
    const top = new Blob()
    const layer = new MultinomialLogisticLossLayer(param({ type: "MultinomialLogisticLoss" }), testContext())
    setUpForward(layer, [p, l], [top])
    expectClose(values(top), [(-Math.log(Math.fround(0.5)) - Math.log(1e-20)) / 2], 1e-6)
    const rng = new Rng(35)
    expectGradientsOk(new MultinomialLogisticLossLayer(param({ type: "MultinomialLogisticLoss" }), testContext()), [randomBlob([4, 5], rng, 0.2, 1), labelBlob([4], rng, 5)], [new Blob()], { lossLayer: true, checkBottom: [0], step: 1e-3 })
  })
})

describe("InfogainLoss", () => {
  const identity = (n: number) => blobOf([n, n], Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)))

  it("with H = I it is the softmax log loss: uniform scores over C classes give ln C", () => {
    const top = new Blob()
    const prob = new Blob()
    setUpForward(new InfogainLossLayer(param({ type: "InfogainLoss" }), testContext()), [new Blob([3, 5]), blobOf([3], [0, 4, 2]), identity(5)], [top, prob])
    expectClose(values(top), [Math.log(5)], 1e-6)
    expect(prob.shape).toEqual([3, 5])
    expectClose(values(prob), new Array(15).fill(0.2), 1e-6)
  })

  it("reads H from a binaryproto file (infogain_loss_param.source)", () => {
    const dir = mkdtempSync(join(tmpdir(), "infogain-"))
    try {
      const file = join(dir, "H.binaryproto")
      const h = new Float32Array([2, 0, 1, 0, 1, 0, 0, 0, 3])
      writeBinaryprotoSync(file, makeBlobProto([1, 1, 3, 3], h))
      const top = new Blob()
      setUpForward(new InfogainLossLayer(param({ type: "InfogainLoss", infogain_loss_param: { source: file } }), testContext()), [new Blob([2, 3]), blobOf([2], [0, 2])], [top])
      // p = 1/3 everywhere: loss = (row0 sum 3 + row2 sum 3)·ln 3 / 2 (VALID normaliser = 2)
      expectClose(values(top), [3 * Math.log(3)], 1e-6)
      expect(() => new InfogainLossLayer(param({ name: "ig", type: "InfogainLoss", infogain_loss_param: { source: join(dir, "missing") } }), testContext()).setUp([new Blob([2, 3]), new Blob([2])], [new Blob()])).toThrow(/ig.*missing/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("gradients with a random H, along axis 1 of 4-D input and with ignore_label", () => {
    const rng = new Rng(36)
    const h = randomBlob([4, 4], rng, 0, 1)
    expectGradientsOk(new InfogainLossLayer(param({ type: "InfogainLoss" }), testContext()), [randomBlob([3, 4], rng, -2, 2), labelBlob([3], rng, 4), h], [new Blob()], { lossLayer: true, checkBottom: [0] })
    const labels = labelBlob([2, 1, 2, 3], rng, 4)
    labels.data[1] = 7
    expectGradientsOk(
      new InfogainLossLayer(param({ type: "InfogainLoss", loss_param: { ignore_label: 7 } }), testContext()),
      [randomBlob([2, 4, 2, 3], rng, -2, 2), labels, h],
      [new Blob()],
      { lossLayer: true, checkBottom: [0] }
    )
    expect(() => new InfogainLossLayer(param({ name: "ig2", type: "InfogainLoss" }), testContext()).setUp([new Blob([2, 3]), new Blob([2])], [new Blob()])).toThrow(/ig2.*source/)
  })
})
