import { decode, encode, parsePrototxt, type NetParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Rng } from "../core/rng.js"
import { Net } from "./net.js"

const netOf = (text: string, state?: NetParameter["state"]) =>
  new Net(parsePrototxt("NetParameter", text), state !== undefined ? { state } : {})

/** Σ of a loss evaluated at a perturbed parameter/input value, for finite differences through the whole net. */
const numericGrad = (net: Net, data: Float32Array, i: number, h = 1e-2): number => {
  const x = data[i]!
  data[i] = x + h
  const plus = net.forward()
  data[i] = x - h
  const minus = net.forward()
  data[i] = x
  return (plus - minus) / (2 * h)
}

const SMALL = `
name: "small"
layer { name: "data" type: "Input" top: "x" top: "label" input_param { shape { dim: 3 dim: 4 } shape { dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "h"
        param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
        inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } } }
layer { name: "relu" type: "ReLU" bottom: "h" top: "h" }
layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "y"
        inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.5 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "y" bottom: "label" top: "loss" }
layer { name: "acc" type: "Accuracy" bottom: "y" bottom: "label" top: "acc" include { phase: TEST } }
`

const fillInputs = (net: Net, seed = 5) => {
  const rng = new Rng(seed)
  const x = net.blobByName("x")!
  for (let i = 0; i < x.count; i++) x.data[i] = rng.uniform(-1, 1)
  net.blobByName("label")!.data.set([0, 2, 1])
}

describe("Net", () => {
  it("builds layers in order with in-place tops, splits, outputs and learnable params", () => {
    const net = netOf(SMALL, { phase: "TEST" })
    expect(net.layerNames).toEqual(["data", "label_data_1_split", "ip", "relu", "ip2", "y_ip2_0_split", "loss", "acc"])
    expect(net.blobByName("h")!.shape).toEqual([3, 5])
    expect(net.outputBlobs().map((o) => [o.name, o.lossWeight])).toEqual([["acc", 0], ["loss", 1]])
    expect(net.learnableParams().map((p) => [p.layerName, p.blob.shape, p.lrMult, p.decayMult])).toEqual([
      ["ip", [5, 4], 1, 1],
      ["ip", [5], 2, 0],
      ["ip2", [3, 5], 1, 1],
      ["ip2", [3], 1, 1]
    ])
    const train = netOf(SMALL, { phase: "TRAIN" })
    expect(train.layerNames).toEqual(["data", "ip", "relu", "ip2", "loss"])
    expect(train.phase).toBe("TRAIN")
  })

  it("forward returns the weighted loss and backward matches finite differences through the net", () => {
    const net = netOf(SMALL.replace('top: "loss" }', 'top: "loss" loss_weight: 2 }'), { phase: "TRAIN" })
    fillInputs(net)
    const l2 = net.forward()
    const plain = netOf(SMALL, { phase: "TRAIN" })
    plain.learnableParams().forEach((p, i) => p.blob.data.set(net.learnableParams()[i]!.blob.data.subarray(0, p.blob.count)))
    fillInputs(plain)
    expect(l2).toBeCloseTo(2 * plain.forward(), 5)
    expect(net.blobByName("loss")!.diff[0]).toBe(2)

    net.clearParamDiffs()
    net.forwardBackward()
    for (const p of net.learnableParams()) {
      const analytic = p.blob.diff.slice(0, p.blob.count)
      for (let i = 0; i < p.blob.count; i += 3) expect(analytic[i]).toBeCloseTo(numericGrad(net, p.blob.data, i), 2)
    }
  })

  it("forwardFromTo/backwardFromTo split the passes; reshape follows a changed input shape", () => {
    const net = netOf(SMALL, { phase: "TRAIN" })
    fillInputs(net)
    const whole = net.forward()
    const last = net.layers.length - 1
    expect(net.forwardFromTo(0, 2) + net.forwardFromTo(3, last)).toBeCloseTo(whole, 6)
    net.clearParamDiffs()
    net.backwardFromTo(last, 2)
    net.backwardFromTo(1, 0)
    const split = net.learnableParams().map((p) => Array.from(p.blob.diff.subarray(0, p.blob.count)))
    net.clearParamDiffs()
    net.backward()
    net.learnableParams().forEach((p, k) => expect(Array.from(p.blob.diff.subarray(0, p.blob.count))).toEqual(split[k]))
    net.blobByName("x")!.reshape([5, 4])
    net.blobByName("label")!.reshape([5])
    net.reshape()
    expect(net.blobByName("y")!.shape).toEqual([5, 3])
    expect(net.layerBlobs(2).top[0]).toBe(net.blobByName("h"))
  })

  it("backward accumulates into parameter diffs until cleared", () => {
    const net = netOf(SMALL, { phase: "TRAIN" })
    fillInputs(net)
    net.clearParamDiffs()
    net.forwardBackward()
    const once = Array.from(net.learnableParams()[0]!.blob.diff.subarray(0, 20))
    net.forwardBackward()
    const twice = Array.from(net.learnableParams()[0]!.blob.diff.subarray(0, 20))
    twice.forEach((v, i) => expect(v).toBeCloseTo(2 * once[i]!, 5))
    net.clearParamDiffs()
    expect(net.learnableParams()[0]!.blob.diff.every((v) => v === 0)).toBe(true)
  })

  it("skips backward where Caffe does: lr_mult 0 layers with no gradient-needing bottoms", () => {
    const frozen = SMALL.replace("param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 }", "param { lr_mult: 0 } param { lr_mult: 0 }")
    const net = netOf(frozen, { phase: "TRAIN" })
    fillInputs(net)
    const ip = net.graph.layers.find((l) => l.name === "ip")!
    expect(ip.needBackward).toBe(false)
    net.clearParamDiffs()
    net.forwardBackward()
    expect(net.layerByName("ip")!.blobs[0]!.diff.every((v) => v === 0)).toBe(true)
    expect(net.layerByName("ip2")!.blobs[0]!.diff.some((v) => v !== 0)).toBe(true)
    // force_backward makes every layer (and the data bottom, not the labels) compute gradients
    const forced = netOf("force_backward: true\n" + frozen, { phase: "TRAIN" })
    fillInputs(forced)
    forced.forwardBackward()
    expect(forced.blobByName("x")!.diff.some((v) => v !== 0)).toBe(true)
    expect(forced.graph.layers.find((l) => l.name === "loss")!.bottomNeedBackward).toEqual([true, false])
  })

  it("propagate_down: false stops gradients at that bottom, and layers below it skip backward", () => {
    const text = SMALL.replace('layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "y"', 'layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "y" propagate_down: false')
    const net = netOf(text, { phase: "TRAIN" })
    fillInputs(net)
    expect(net.graph.layers.filter((l) => l.needBackward).map((l) => l.name)).toEqual(["ip2", "loss"])
    net.clearParamDiffs()
    net.forwardBackward()
    expect(net.layerByName("ip")!.blobs[0]!.diff.every((v) => v === 0)).toBe(true)
    expect(net.layerByName("ip2")!.blobs[0]!.diff.some((v) => v !== 0)).toBe(true)
  })

  it("shared parameters use one storage for data and diff; gradients add up", () => {
    const text = `
layer { name: "in" type: "Input" top: "a" top: "b" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "ipa" type: "InnerProduct" bottom: "a" top: "ya" param { name: "w" } inner_product_param { num_output: 2 bias_term: false weight_filler { type: "gaussian" } } }
layer { name: "ipb" type: "InnerProduct" bottom: "b" top: "yb" param { name: "w" } inner_product_param { num_output: 2 bias_term: false weight_filler { type: "gaussian" } } }
layer { name: "sum" type: "Eltwise" bottom: "ya" bottom: "yb" top: "s" }
layer { name: "loss" type: "EuclideanLoss" bottom: "s" bottom: "s" top: "loss" }`
    const hasEuclidean = (() => {
      try {
        netOf(text)
        return true
      } catch {
        return false
      }
    })()
    const t = hasEuclidean ? text : text.replace('type: "EuclideanLoss" bottom: "s" bottom: "s"', 'type: "Softmax" bottom: "s"').replace("top: \"loss\" }", 'top: "loss" loss_weight: 1 }')
    const net = netOf(t)
    const a = net.layerByName("ipa")!.blobs[0]!
    const b = net.layerByName("ipb")!.blobs[0]!
    expect(b.data).toBe(a.data)
    expect(b.diff).toBe(a.diff)
    expect(net.learnableParams().length).toBe(1)
    expect(net.learnableParams()[0]!.name).toBe("w")
    const bad = `
layer { name: "in" type: "Input" top: "a" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "p1" type: "InnerProduct" bottom: "a" top: "y1" param { name: "w" } inner_product_param { num_output: 2 } }
layer { name: "p2" type: "InnerProduct" bottom: "a" top: "y2" param { name: "w" } inner_product_param { num_output: 3 } }`
    expect(() => netOf(bad)).toThrow(/p2.*w|w.*p2/)
  })

  it("splits: a blob used twice gets Caffe's Split layer and backward sums both paths", () => {
    const text = `
force_backward: true
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
layer { name: "p1" type: "InnerProduct" bottom: "x" top: "y1" inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "p2" type: "InnerProduct" bottom: "x" top: "y2" inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "sum" type: "Eltwise" bottom: "y1" bottom: "y2" top: "s" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s" bottom: "label" top: "loss" }`
    const net = netOf(text, { phase: "TRAIN" })
    expect(net.layerNames).toContain("x_in_0_split")
    expect(net.blobByName("x_in_0_split_1")).toBeDefined()
    const x = net.blobByName("x")!
    const rng = new Rng(2)
    for (let i = 0; i < x.count; i++) x.data[i] = rng.uniform(-1, 1)
    net.blobByName("label")!.data.set([1, 2])
    net.forwardBackward()
    const analytic = x.diff.slice(0, x.count)
    for (let i = 0; i < x.count; i++) expect(analytic[i]).toBeCloseTo(numericGrad(net, x.data, i), 2)
  })

  it("setup errors name the layer and its bottom blobs", () => {
    expect(() => netOf(`layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "cv" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 3 } }`)).toThrow(/"cv" \(Convolution\).*bottoms: x \[2, 3\]/)
  })

  it("PERMISSIVE sharing needs equal counts only; STRICT needs equal shapes", () => {
    const text = (mode: string) => `
layer { name: "in" type: "Input" top: "a" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "p1" type: "InnerProduct" bottom: "a" top: "y1" param { name: "w" } inner_product_param { num_output: 2 bias_term: false } }
layer { name: "p2" type: "InnerProduct" bottom: "a" top: "y2" param { name: "w" share_mode: ${mode} } inner_product_param { num_output: 2 bias_term: false transpose: true } }`
    const net = netOf(text("PERMISSIVE"))
    expect(net.layerByName("p2")!.blobs[0]!.shape).toEqual([3, 2])
    expect(net.layerByName("p2")!.blobs[0]!.data).toBe(net.layerByName("p1")!.blobs[0]!.data)
    expect(() => netOf(text("STRICT"))).toThrow(/p2/)
  })

  it("toProto: runtime params, loss_weight, splits without blobs, shape+data blobs; encode/decode round trip is bit-identical", () => {
    const net = netOf(SMALL, { phase: "TEST" })
    const proto = net.toProto({ writeDiff: false })
    expect(proto.name).toBe("small")
    const byName = new Map((proto.layer ?? []).map((l) => [l.name, l]))
    expect(byName.get("loss")!.loss_weight).toEqual([1])
    expect(byName.get("loss")!.phase).toBe("TEST")
    expect(byName.get("y_ip2_0_split")!.type).toBe("Split")
    expect(byName.get("y_ip2_0_split")!.blobs).toBeUndefined()
    const ipBlobs = byName.get("ip")!.blobs!
    expect(ipBlobs.map((b) => b.shape!.dim)).toEqual([[5, 4], [5]])
    expect(ipBlobs[0]!.diff).toBeUndefined()
    expect(net.toProto({ writeDiff: true }).layer!.find((l) => l.name === "ip")!.blobs![0]!.diff!.length).toBe(20)

    const decoded = decode("NetParameter", encode("NetParameter", proto))
    const other = netOf(SMALL, { phase: "TEST" })
    const log: string[] = []
    other.copyTrainedLayersFrom(decoded, { log: (l) => log.push(l) })
    expect(log).toEqual([])
    net.learnableParams().forEach((p, i) => {
      const q = other.learnableParams()[i]!.blob
      expect(Buffer.from(q.data.buffer, q.data.byteOffset, q.count * 4).equals(Buffer.from(p.blob.data.buffer, p.blob.data.byteOffset, p.blob.count * 4))).toBe(true)
    })
  })

  it("copyTrainedLayersFrom: ignores unknown layers, accepts legacy 4-D dims, names layer/blob/shapes/file on mismatch", () => {
    const net = netOf(SMALL, { phase: "TRAIN" })
    const w = Float32Array.from({ length: 20 }, (_, i) => i)
    const log: string[] = []
    net.copyTrainedLayersFrom(
      {
        layer: [
          { name: "nope", type: "ReLU" },
          { name: "ip", blobs: [{ num: 1, channels: 1, height: 5, width: 4, data: w }, { num: 1, channels: 1, height: 1, width: 5, data: new Float32Array(5).fill(3) }] }
        ]
      },
      { log: (l) => log.push(l) }
    )
    expect(log).toEqual(["Ignoring source layer nope"])
    expect(Array.from(net.layerByName("ip")!.blobs[0]!.data)).toEqual(Array.from(w))
    expect(Array.from(net.layerByName("ip")!.blobs[1]!.data)).toEqual([3, 3, 3, 3, 3])
    expect(() =>
      net.copyTrainedLayersFrom(
        { layer: [{ name: "ip2", blobs: [{ shape: { dim: [3, 6] }, data: new Float32Array(18) }, { shape: { dim: [3] }, data: new Float32Array(3) }] }] },
        { file: "w.caffemodel" }
      )
    ).toThrow(/w\.caffemodel.*ip2.*param 0.*3 6 \(18\).*3 5 \(15\)/)
    expect(() => net.copyTrainedLayersFrom({ layer: [{ name: "ip2", blobs: [] }] })).toThrow(/ip2.*number of blobs/)
  })

  it("shareTrainedLayersWith: the test net sees the train net's weights", () => {
    const train = netOf(SMALL, { phase: "TRAIN" })
    const test = netOf(SMALL, { phase: "TEST" })
    test.shareTrainedLayersWith(train)
    expect(test.layerByName("ip")!.blobs[0]!.data).toBe(train.layerByName("ip")!.blobs[0]!.data)
    train.layerByName("ip2")!.blobs[0]!.data[0] = 42
    expect(test.layerByName("ip2")!.blobs[0]!.data[0]).toBe(42)
  })
})

describe("Net with legacy weights", () => {
  it("upgrades V1 `layers` weights before copying; lists Input tops as inputs", () => {
    const net = netOf(SMALL, { phase: "TRAIN" })
    expect(net.inputBlobs().map((i) => i.name)).toEqual(["x", "label"])
    const w = Float32Array.from({ length: 15 }, (_, i) => i / 10)
    net.copyTrainedLayersFrom({
      layers: [{ name: "ip2", type: "INNER_PRODUCT", blobs: [{ num: 1, channels: 1, height: 3, width: 5, data: w }, { num: 1, channels: 1, height: 1, width: 3, data: new Float32Array(3) }] }]
    })
    expect(Array.from(net.layerByName("ip2")!.blobs[0]!.data)).toEqual(Array.from(w))
  })
})
