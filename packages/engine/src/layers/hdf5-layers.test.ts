import type { LayerParameter, NetParameter } from "@deepspark/caffe"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import { createLayer } from "../core/registry.js"
import { Rng } from "../core/rng.js"
import { Net } from "../net/net.js"
import { openFileDataService } from "../net/file-data-service.js"
import { FILE_DATA_SERVICE, type FileDataService } from "./file-data-service.js"
import { HDF5DataLayer } from "./hdf5-data.js"
import { HDF5OutputLayer } from "./hdf5-output.js"
import { blobOf, param, testContext, values } from "./layer-test-kit.js"
import "./register-data-layers.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-h5layers-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
let svc: FileDataService

type H5 = typeof import("h5wasm/node")
/** Writes an .h5 file with h5wasm directly (datasets of any numeric type). */
let writeH5: (file: string, sets: Record<string, { data: Float32Array | Float64Array | Int32Array; shape: number[] }>) => void

beforeAll(async () => {
  const h5: H5 = await import("h5wasm/node")
  await h5.ready
  writeH5 = (file, sets) => {
    const f = new h5.File(path.join(tmp, file), "w")
    for (const [name, s] of Object.entries(sets)) f.create_dataset({ name, data: s.data, shape: s.shape })
    f.close()
  }
  const service = await openFileDataService(
    { layer: [{ name: "h", type: "HDF5Data", top: ["data"], hdf5_data_param: { source: "list.txt", batch_size: 1 } }] },
    { baseDir: tmp }
  )
  svc = service.services[FILE_DATA_SERVICE] as FileDataService
  // file one: rows (10·r, 10·r + 1), labels r; file two: rows (100 + 10·r, …), labels 10 + r
  writeH5("one.h5", { data: { data: Float64Array.from([0, 1, 10, 11, 20, 21]), shape: [3, 2] }, label: { data: Int32Array.from([0, 1, 2]), shape: [3] } })
  writeH5("two.h5", { data: { data: Float32Array.from([100, 101, 110, 111]), shape: [2, 2] }, label: { data: Int32Array.from([10, 11]), shape: [2] } })
  writeH5("wide.h5", { data: { data: new Float32Array(6), shape: [2, 3] }, label: { data: Int32Array.from([0, 1]), shape: [2] } })
  writeH5("nolabel.h5", { data: { data: new Float32Array(4), shape: [2, 2] } })
  writeFileSync(path.join(tmp, "list.txt"), "one.h5\ntwo.h5\n")
  writeFileSync(path.join(tmp, "mismatch.txt"), "one.h5\nwide.h5\n")
  writeFileSync(path.join(tmp, "nolabel.txt"), "nolabel.h5\n")
})

const h5data = (p: Omit<LayerParameter, "type" | "top">, seed = 1701) =>
  new HDF5DataLayer(param({ name: "h5", type: "HDF5Data", top: ["data", "label"], ...p }), {
    ...testContext("TRAIN", seed),
    services: { [FILE_DATA_SERVICE]: svc }
  })
const run = (l: HDF5DataLayer, tops: Blob[]) => {
  l.forward([], tops)
  return { data: values(tops[0]!), label: values(tops[1]!) }
}

describe("HDF5Data", () => {
  it("serves rows file after file, wrapping; tops (batch, dataset dims after the first); any numeric type read as float", () => {
    const l = h5data({ hdf5_data_param: { source: "list.txt", batch_size: 4 } })
    const tops = [new Blob(), new Blob()]
    l.setUp([], tops)
    expect(tops.map((t) => t.shape)).toEqual([[4, 2], [4]])
    expect(run(l, tops)).toEqual({ data: [0, 1, 10, 11, 20, 21, 100, 101], label: [0, 1, 2, 10] })
    expect(run(l, tops)).toEqual({ data: [110, 111, 0, 1, 10, 11, 20, 21], label: [11, 0, 1, 2] })
  })

  it("shuffle: files and rows in an order drawn from the layer's rng; every row once per pass; repeatable", () => {
    const pass = (seed: number) => {
      const l = h5data({ hdf5_data_param: { source: "list.txt", batch_size: 5, shuffle: true } }, seed)
      const tops = [new Blob(), new Blob()]
      l.setUp([], tops)
      const passes = [run(l, tops), run(l, tops), run(l, tops), run(l, tops)]
      for (const p of passes) {
        expect([...p.label].sort((a, b) => a - b)).toEqual([0, 1, 2, 10, 11])
        // rows stay whole: data row of label r is (10r, 10r + 1) in file one, (100 + 10(r − 10), …) in file two
        p.label.forEach((r, i) => expect(p.data[2 * i]).toBe(r < 10 ? 10 * r : 100 + 10 * (r - 10)))
      }
      return passes.map((p) => p.label)
    }
    const a = pass(3)
    expect(new Set(a.map((x) => x.join())).size).toBeGreaterThan(1)
    expect(pass(3)).toEqual(a)
  })

  it("errors: transform_param, a missing dataset (file and name), item shapes that differ between files, no service", () => {
    expect(() => h5data({ hdf5_data_param: { source: "list.txt", batch_size: 1 }, transform_param: { scale: 2 } }).setUp([], [new Blob(), new Blob()])).toThrow(
      /Layer "h5" \(HDF5Data\): HDF5Data does not transform data: remove transform_param/
    )
    expect(() => h5data({ hdf5_data_param: { source: "nolabel.txt", batch_size: 1 } }).setUp([], [new Blob(), new Blob()])).toThrow(/nolabel\.h5: no HDF5 dataset "label"/)
    const l = h5data({ hdf5_data_param: { source: "mismatch.txt", batch_size: 3 } })
    const tops = [new Blob(), new Blob()]
    l.setUp([], tops)
    expect(() => run(l, tops)).toThrow(/wide\.h5: dataset "data" rows are 3, but the first file \(.*one\.h5\) gave 2 \(listed in .*mismatch\.txt\)/)
    const bare = new HDF5DataLayer(param({ name: "h5", type: "HDF5Data", top: ["data"], hdf5_data_param: { source: "list.txt", batch_size: 1 } }), testContext())
    expect(() => bare.setUp([], [new Blob()])).toThrow(/no file data service \("fileData" with HDF5 started\)/)
  })
})

describe("HDF5Output", () => {
  it("writes its bottoms as datasets data and label (full shapes, float32) that read back equal", () => {
    const file = path.join("out", "batch.h5")
    const l = new HDF5OutputLayer(param({ name: "out", type: "HDF5Output", bottom: ["d", "l"], hdf5_output_param: { file_name: file } }), {
      ...testContext(),
      services: { [FILE_DATA_SERVICE]: svc }
    })
    const d = blobOf([2, 1, 1, 3], [0.5, 1.5, 2.5, -1, -2, -3])
    const lab = blobOf([2], [4, 7])
    l.setUp([d, lab], [])
    l.forward([d, lab], [])
    const [data, label] = svc.hdf5!.reader.load(path.join(tmp, file), ["data", "label"])
    expect([data!.shape, [...data!.data]]).toEqual([[2, 1, 1, 3], [0.5, 1.5, 2.5, -1, -2, -3]])
    expect([label!.shape, [...label!.data]]).toEqual([[2], [4, 7]])
    expect(() => l.reshape([d, blobOf([3], [1, 2, 3])], [])).toThrow(/same number of rows/)
  })

  it("a net HDF5Data → HDF5Output, with the services of openFileDataService, writes the batch it read", async () => {
    const net: NetParameter = {
      name: "h5net",
      layer: [
        { name: "in", type: "HDF5Data", top: ["data", "label"], hdf5_data_param: { source: "list.txt", batch_size: 2 } },
        { name: "out", type: "HDF5Output", bottom: ["data", "label"], hdf5_output_param: { file_name: "net-out.h5" } }
      ]
    }
    const { services } = await openFileDataService(net, { state: { phase: "TRAIN" }, baseDir: tmp })
    const n = new Net(net, { state: { phase: "TRAIN" }, services, rng: new Rng(1) })
    n.forward()
    n.forward()
    const [data, label] = svc.hdf5!.reader.load(path.join(tmp, "net-out.h5"), ["data", "label"])
    expect([...data!.data, ...label!.data]).toEqual([20, 21, 100, 101, 2, 10])
    expect((await openFileDataService({ layer: [{ name: "x", type: "Input", top: ["x"] }] })).services).toEqual({})
  })
})

describe("WindowData", () => {
  it("is refused with an error naming the layer", () => {
    const l = createLayer(param({ name: "windows", type: "WindowData", top: ["d", "l"], window_data_param: { source: "w.txt" } }), testContext())
    expect(() => l.setUp([], [new Blob(), new Blob()])).toThrow(/Layer "windows" \(WindowData\): WindowData is not supported by deepspark \(source w\.txt\)/)
  })
})
