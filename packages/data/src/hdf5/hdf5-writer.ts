/**
 * Writer for Caffe's HDF5Output layer, on h5wasm: creates (truncates) a file and stores float32
 * datasets with the blobs' full shapes, as hdf5_save_nd_dataset does.
 */
import { mkdirSync } from "node:fs"
import path from "node:path"
import { ImageError } from "../errors.js"
import type { Hdf5Blob } from "./hdf5-reader.js"

type H5 = typeof import("h5wasm/node")

let h5: Promise<H5> | null = null
const loadH5 = (): Promise<H5> =>
  (h5 ??= import("h5wasm/node").then(async (m) => {
    await m.ready
    return m
  }))

export interface Hdf5Writer {
  /** Writes `blobs` as datasets of a new `file` (an existing one is replaced). */
  write(file: string, blobs: ReadonlyArray<Hdf5Blob>): void
}

/** Starts the HDF5 library (once per process); the returned writer is synchronous. */
export const openHdf5Writer = async (): Promise<Hdf5Writer> => {
  const mod = await loadH5()
  return {
    write(file, blobs) {
      const full = path.resolve(file)
      let f: InstanceType<H5["File"]>
      try {
        mkdirSync(path.dirname(full), { recursive: true })
        f = new mod.File(full, "w")
      } catch (e) {
        throw new ImageError({ source: file, message: `${file}: cannot create HDF5 file (${(e as Error).message})` })
      }
      try {
        for (const b of blobs) {
          const count = b.shape.reduce((a, d) => a * d, 1)
          if (count !== b.data.length) {
            throw new ImageError({ source: file, message: `${file}: dataset "${b.name}" has ${b.data.length} values for shape ${b.shape.join("×")}` })
          }
          f.create_dataset({ name: b.name, data: b.data, shape: [...b.shape], dtype: "<f" })
        }
      } finally {
        f.close()
      }
    }
  }
}
