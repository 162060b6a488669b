import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { openHdf5Reader } from "../src/hdf5/hdf5-reader.js"
import { openHdf5Writer } from "../src/hdf5/hdf5-writer.js"

const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-h5w-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("openHdf5Writer (HDF5Output)", () => {
  it("writes float32 datasets with full shapes that the reader loads back; a rewrite replaces the file; bad sizes name the file", async () => {
    const writer = await openHdf5Writer()
    const reader = await openHdf5Reader()
    const file = path.join(tmp, "sub", "out.h5")
    writer.write(file, [
      { name: "data", shape: [2, 1, 2, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 4) },
      { name: "label", shape: [2], data: Float32Array.from([3, 7]) }
    ])
    const [data, label] = reader.load(file, ["data", "label"])
    expect(data!.shape).toEqual([2, 1, 2, 3])
    expect([...data!.data]).toEqual(Array.from({ length: 12 }, (_, i) => i / 4))
    expect([...label!.data]).toEqual([3, 7])
    writer.write(file, [{ name: "label", shape: [1], data: Float32Array.from([9]) }])
    expect(() => reader.load(file, ["data"])).toThrow(/no HDF5 dataset "data"/)
    expect(() => writer.write(file, [{ name: "x", shape: [2, 2], data: new Float32Array(3) }])).toThrow(/out\.h5: dataset "x" has 3 values for shape 2×2/)
  })
})
