/**
 * Readers for Caffe's HDF5Data layer, on h5wasm (HDF5 compiled to WebAssembly, host filesystem in
 * Node). The layer's `source` is a text file of .h5 paths (whitespace-separated, as Caffe reads it with
 * `>>`); each file holds one dataset per top blob, named like the top, all with the same first
 * dimension; values are read as float32 whatever their stored type (H5LTread_dataset_float).
 */
import { existsSync, readFileSync } from "node:fs"
import path from "node:path"
import { ImageError } from "../errors.js"

export interface Hdf5Blob {
  readonly name: string
  readonly shape: ReadonlyArray<number>
  readonly data: Float32Array
}

export const readHdf5SourceList = (listFile: string): Array<string> => {
  let text: string
  try {
    text = readFileSync(listFile, "utf8")
  } catch (e) {
    throw new ImageError({ source: listFile, message: `${listFile}: cannot read HDF5 source list (${(e as Error).message})` })
  }
  const files = text.split(/\s+/).filter((s) => s !== "")
  if (files.length === 0) throw new ImageError({ source: listFile, message: `${listFile}: lists no HDF5 files (expected one path per line)` })
  return files
}

interface H5Dataset {
  readonly shape: Array<number> | null
  readonly value: unknown
}
interface H5File {
  get(name: string): unknown
  close(): void
}
interface H5Module {
  readonly ready: Promise<unknown>
  readonly File: new (file: string, mode: string) => H5File
  readonly Dataset: new (...args: Array<never>) => H5Dataset
}

let h5: Promise<H5Module> | null = null
const loadH5 = (): Promise<H5Module> =>
  (h5 ??= import("h5wasm/node").then(async (m) => {
    const mod = ((m as { default?: unknown }).default ?? m) as H5Module
    await mod.ready
    return mod
  }))

export interface Hdf5Reader {
  /** Loads the datasets named `names` from `file` (Caffe's LoadHDF5FileData). */
  load(file: string, names: ReadonlyArray<string>): Array<Hdf5Blob>
}

/** Starts the HDF5 library (once per process); the returned reader is synchronous. */
export const openHdf5Reader = async (): Promise<Hdf5Reader> => {
  const mod = await loadH5()
  return {
    load(file, names) {
      const full = path.resolve(file)
      if (!existsSync(full)) throw new ImageError({ source: file, message: `${file}: HDF5 file not found` })
      let f: H5File
      try {
        f = new mod.File(full, "r")
      } catch (e) {
        throw new ImageError({ source: file, message: `${file}: cannot open HDF5 file (${(e as Error).message})` })
      }
      try {
        const blobs = names.map((name): Hdf5Blob => {
          const ds = f.get(name)
          if (!(ds instanceof mod.Dataset)) {
            throw new ImageError({ source: file, message: `${file}: no HDF5 dataset "${name}" (expected one per top blob)` })
          }
          const shape = ds.shape ?? []
          const value = ds.value
          if (shape.length < 1 || !ArrayBuffer.isView(value) || value instanceof DataView) {
            throw new ImageError({ source: file, message: `${file}: dataset "${name}" is not a numeric array of rank ≥ 1` })
          }
          const numeric = value as unknown as ArrayLike<number | bigint>
          const data = new Float32Array(numeric.length)
          for (let i = 0; i < numeric.length; i++) data[i] = Number(numeric[i]!)
          return { name, shape, data }
        })
        const num = blobs[0]?.shape[0]
        for (const b of blobs) {
          if (b.shape[0] !== num) {
            throw new ImageError({
              source: file,
              message: `${file}: dataset "${b.name}" has ${b.shape[0]} rows but "${blobs[0]!.name}" has ${num} (expected the same first dimension)`
            })
          }
        }
        return blobs
      } finally {
        f.close()
      }
    }
  }
}
