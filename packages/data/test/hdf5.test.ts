import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { openHdf5Reader, readHdf5SourceList } from "../src/hdf5/hdf5-reader.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-h5-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("HDF5Data readers (h5wasm)", () => {
  it("loads top-named datasets as float32 with a common first dimension; names file and dataset in errors", async () => {
    const h5 = (await import("h5wasm/node")) as unknown as {
      ready: Promise<unknown>
      File: new (f: string, m: string) => { create_dataset(o: object): unknown; close(): void }
    }
    await h5.ready
    const file = path.join(tmp, "train.h5")
    const w = new h5.File(file, "w")
    w.create_dataset({ name: "data", data: new Float64Array([1.5, 2, 3, 4, 5, 6]), shape: [3, 2] })
    w.create_dataset({ name: "label", data: new Int32Array([0, 1, 2]), shape: [3] })
    w.create_dataset({ name: "short", data: new Float32Array([1, 2]), shape: [2] })
    w.close()
    const list = path.join(tmp, "list.txt")
    writeFileSync(list, `${file}\n\n  ${file}\n`)
    expect(readHdf5SourceList(list)).toEqual([file, file])
    const reader = await openHdf5Reader()
    const [data, label] = reader.load(file, ["data", "label"])
    expect(data!.shape).toEqual([3, 2])
    expect([...data!.data]).toEqual([1.5, 2, 3, 4, 5, 6])
    expect(label!.data).toBeInstanceOf(Float32Array)
    expect([...label!.data]).toEqual([0, 1, 2])
    expect(() => reader.load(file, ["data", "nope"])).toThrow(/train\.h5: no HDF5 dataset "nope"/)
    expect(() => reader.load(file, ["data", "short"])).toThrow(/dataset "short" has 2 rows but "data" has 3/)
    expect(() => reader.load(path.join(tmp, "missing.h5"), ["data"])).toThrow(/missing\.h5: HDF5 file not found/)
  })
})
