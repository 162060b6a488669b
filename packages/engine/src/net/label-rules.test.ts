import { encodeDatum, type LayerParameter, type NetParameter } from "@deepspark/caffe"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DATA_SOURCE_FACTORY } from "../layers/data.js"
import { Rng } from "../core/rng.js"
import { Net } from "./net.js"
import { openNetDataSources } from "./data-sources.js"
import { netLabelRules } from "./label-rules.js"
import { openPartitionNetDataSources } from "./partition-data-sources.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-labels-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

beforeAll(async () => {
  const { createLmdb } = await import("@deepspark/data")
  const w = createLmdb(path.join(tmp, "db"))
  // labels 0, 1, 2, 7: the last is outside a 3-class net
  ;[0, 1, 2, 7].forEach((label, i) => w.putSync(`k${i}`, encodeDatum({ channels: 1, height: 1, width: 2, data: Uint8Array.from([i, 2 * i]), label })))
  await w.close()
})

const data: LayerParameter = { name: "feed", type: "Data", top: ["data", "label"], data_param: { source: "db", batch_size: 2, backend: "LMDB" } }
const ip: LayerParameter = { name: "ip", type: "InnerProduct", bottom: ["data"], top: ["ip"], inner_product_param: { num_output: 3 } }
const classifierNet = (loss: Partial<LayerParameter> = {}, extra: ReadonlyArray<LayerParameter> = []): NetParameter => ({
  name: "labels",
  layer: [data, ip, { name: "loss", type: "SoftmaxWithLoss", bottom: ["ip", "label"], top: ["loss"], ...loss }, ...extra]
})
const shapes = new Map([["feed", [[2, 1, 1, 2], [2]]]])
const build = (net: NetParameter, factory: unknown) => new Net(net, { state: { phase: "TRAIN" }, services: { [DATA_SOURCE_FACTORY]: factory }, rng: new Rng(1) })

describe("labels outside the net's classes fail in the Data layer, naming the database and the record", () => {
  it("netLabelRules: classes from the classifiers fed by the label (through splits), ignore_label allowed", () => {
    expect(netLabelRules(classifierNet(), { phase: "TRAIN" }, shapes).get("feed")).toEqual({
      numClasses: 3,
      ignoreLabels: [],
      by: 'layer "loss" (SoftmaxWithLoss)'
    })
    const withAccuracy = classifierNet({ loss_param: { ignore_label: 255 } }, [
      { name: "ip2", type: "InnerProduct", bottom: ["data"], top: ["ip2"], inner_product_param: { num_output: 2 } },
      { name: "acc", type: "Accuracy", bottom: ["ip2", "label"], top: ["acc"], accuracy_param: { ignore_label: -1 } }
    ])
    expect(netLabelRules(withAccuracy, { phase: "TRAIN" }, shapes).get("feed")).toEqual({
      numClasses: 2,
      ignoreLabels: [255, -1],
      by: 'layer "acc" (Accuracy)'
    })
    // a label that is also a regression target, or a label nobody reads: no rule
    const regression = classifierNet({}, [
      { name: "ip1", type: "InnerProduct", bottom: ["data"], top: ["ip1"], inner_product_param: { num_output: 1 } },
      { name: "flat", type: "Reshape", bottom: ["ip1"], top: ["flat"], reshape_param: { shape: { dim: [2] } } },
      { name: "l2", type: "EuclideanLoss", bottom: ["flat", "label"], top: ["l2"] }
    ])
    expect(netLabelRules(regression, { phase: "TRAIN" }, shapes).size).toBe(0)
    expect(netLabelRules({ name: "x", layer: [data] }, { phase: "TRAIN" }, shapes).size).toBe(0)
  })

  it("a Net reading the database stops at the record whose label is outside [0, classes), naming it", async () => {
    const net = classifierNet()
    const sources = await openNetDataSources(net, { state: { phase: "TRAIN" }, rng: new Rng(2), baseDir: tmp })
    const n = build(net, sources.factory)
    n.forward()
    expect(() => n.forward()).toThrow(/db: record "k3" has label 7, expected a class in \[0, 3\) \(layer "loss" \(SoftmaxWithLoss\) has 3 classes\)/)
    await sources.close()
  })

  it("ignore_label passes; a worker's partition source applies the same rule", async () => {
    const ignoring = classifierNet({ loss_param: { ignore_label: 7 } })
    const sources = await openNetDataSources(ignoring, { state: { phase: "TRAIN" }, rng: new Rng(2), baseDir: tmp })
    const n = build(ignoring, sources.factory)
    n.forward()
    n.forward()
    expect(Array.from(n.blobByName("label")!.data.subarray(0, 2))).toEqual([2, 7])
    await sources.close()
    const net = classifierNet()
    const part = await openPartitionNetDataSources(net, { state: { phase: "TRAIN" }, rng: new Rng(2), baseDir: tmp, partition: { index: 1, count: 2, mode: "range" } })
    expect(() => build(net, part.factory).forward()).toThrow(/record "k3" has label 7, expected a class in \[0, 3\)/)
    await part.close()
  })
})
