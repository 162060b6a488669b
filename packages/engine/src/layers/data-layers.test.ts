import type { LayerParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import type { LayerContext } from "../core/layer.js"
import { DataLayer, type DataBatchSource, type DataSourceFactory } from "./data.js"
import { DummyDataLayer } from "./dummy-data.js"
import { InputLayer } from "./input.js"
import { MemoryDataLayer } from "./memory-data.js"
import { param, testContext, values } from "./layer-test-kit.js"

describe("Input", () => {
  it("one shape for all tops, or one per top", () => {
    const a = new Blob()
    const b = new Blob()
    new InputLayer(param({ type: "Input", input_param: { shape: [{ dim: [2, 3] }] } }), testContext()).setUp([], [a, b])
    expect([a.shape, b.shape]).toEqual([[2, 3], [2, 3]])
    new InputLayer(param({ type: "Input", input_param: { shape: [{ dim: [1] }, { dim: [4, 1, 2] }] } }), testContext()).setUp([], [a, b])
    expect([a.shape, b.shape]).toEqual([[1], [4, 1, 2]])
    expect(() => new InputLayer(param({ type: "Input", input_param: { shape: [{ dim: [1] }, { dim: [1] }] } }), testContext()).setUp([], [a, b, new Blob()])).toThrow(/once per top/)
  })
})

describe("DummyData", () => {
  it("constant fillers fill once, others refill each forward; legacy dims", () => {
    const a = new Blob()
    const b = new Blob()
    const layer = new DummyDataLayer(
      param({ type: "DummyData", dummy_data_param: { shape: [{ dim: [2, 2] }, { dim: [3] }], data_filler: [{ type: "constant", value: 7 }, { type: "uniform" }] } }),
      testContext()
    )
    layer.setUp([], [a, b])
    expect(values(a)).toEqual([7, 7, 7, 7])
    a.data[0] = 0
    layer.forward([], [a, b])
    const first = values(b)
    layer.forward([], [a, b])
    expect(a.data[0]).toBe(0)
    expect(values(b)).not.toEqual(first)
    const c = new Blob()
    new DummyDataLayer(param({ type: "DummyData", dummy_data_param: { num: [5], channels: [2], height: [1], width: [3] } }), testContext()).setUp([], [c])
    expect(c.shape).toEqual([5, 2, 1, 3])
    expect(values(c).every((v) => v === 0)).toBe(true)
  })
})

describe("MemoryData", () => {
  it("serves batches in order and wraps", () => {
    const layer = new MemoryDataLayer(param({ type: "MemoryData", memory_data_param: { batch_size: 2, channels: 1, height: 1, width: 2 } }), testContext())
    const data = new Blob()
    const label = new Blob()
    layer.setUp([], [data, label])
    expect([data.shape, label.shape]).toEqual([[2, 1, 1, 2], [2]])
    expect(() => layer.forward([], [data, label])).toThrow(/reset/)
    layer.reset(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Float32Array.from([0, 1, 2, 3]), 4)
    layer.forward([], [data, label])
    expect([values(data), values(label)]).toEqual([[1, 2, 3, 4], [0, 1]])
    layer.forward([], [data, label])
    expect(values(label)).toEqual([2, 3])
    layer.forward([], [data, label])
    expect(values(label)).toEqual([0, 1])
    expect(() => layer.reset(new Float32Array(6), new Float32Array(3), 3)).toThrow(/multiple of batch_size/)
  })
})

describe("Data", () => {
  it("takes batches from the dataSourceFactory service", () => {
    let next = 0
    const opened: Array<{ source: string | undefined; phase: string }> = []
    const factory: DataSourceFactory = (p: LayerParameter, phase) => {
      opened.push({ source: p.data_param?.source, phase })
      const source: DataBatchSource = {
        itemShape: [1, 2, 2],
        nextBatch(batch, data, labels) {
          for (let i = 0; i < batch * 4; i++) data[i] = next + i
          if (labels) for (let i = 0; i < batch; i++) labels[i] = (next + i) % 10
          next += batch
        }
      }
      return source
    }
    const ctx: LayerContext = { ...testContext("TEST"), services: { dataSourceFactory: factory } }
    const layer = new DataLayer(param({ type: "Data", data_param: { source: "mnist_test_lmdb", batch_size: 3 } }), ctx)
    const data = new Blob()
    const label = new Blob()
    layer.setUp([], [data, label])
    expect(opened).toEqual([{ source: "mnist_test_lmdb", phase: "TEST" }])
    expect([data.shape, label.shape]).toEqual([[3, 1, 2, 2], [3]])
    layer.forward([], [data, label])
    layer.forward([], [data, label])
    expect(values(label)).toEqual([3, 4, 5])
    expect(() => new DataLayer(param({ type: "Data", data_param: { batch_size: 3 } }), testContext()).setUp([], [new Blob()])).toThrow(/data source service/)
  })
})
