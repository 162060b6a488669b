/**
 * Record sources for datasets: Caffe databases (LMDB, LevelDB), the MNIST IDX files, and memory.
 * Database sources keep only their keys (packed, see ../db/key-index.ts) and read values on demand.
 */
import type { Backend, DatumDb } from "../db/datum-db.js"
import { keyBytes, keyText } from "../db/datum-db.js"
import { KeyIndexBuilder } from "../db/key-index.js"
import { openDatumDb } from "../db/open.js"
import type { Datum } from "../datum.js"
import { decodeRecord, formatInt } from "../datum.js"
import { DatumDbError } from "../errors.js"
import { readIdxPair } from "../idx.js"
import type { RecordSource } from "./dataset.js"

/** A database as a source of its raw values, in key order. */
export const databaseSource = (db: DatumDb): RecordSource<Uint8Array> => {
  const builder = new KeyIndexBuilder()
  for (const k of db.keys()) builder.add(k)
  const keys = builder.build()
  return {
    name: db.path,
    size: keys.count,
    keyAt: (i) => keyText(keys.key(i)),
    at: (i) => {
      const value = db.get(keys.key(i))
      if (value === undefined) {
        throw new DatumDbError({ path: db.path, message: `${db.path}: record "${keyText(keys.key(i))}" vanished (the database changed after it was opened)` })
      }
      return value
    },
    close: () => db.close()
  }
}

/** A database's records decoded as Datums (an undecodable record names the database and key). */
export const datumSource = (db: DatumDb): RecordSource<Datum> => {
  const raw = databaseSource(db)
  return { ...raw, at: (i) => decodeRecord(db.path, keyBytes(raw.keyAt(i)), raw.at(i)) }
}

export const openDatumSource = async (path: string, backend: Backend): Promise<RecordSource<Datum>> =>
  datumSource(await openDatumDb(path, backend))

/** MNIST IDX files as Datums exactly as convert_mnist_data stores them, keys `%08d`. */
export const mnistSource = (imagesFile: string, labelsFile: string): RecordSource<Datum> => {
  const { images, labels } = readIdxPair(imagesFile, labelsFile)
  const size = images.rows * images.cols
  return {
    name: imagesFile,
    size: images.count,
    keyAt: (i) => formatInt(i, 8),
    at: (i) => ({
      channels: 1,
      height: images.rows,
      width: images.cols,
      data: images.pixels.subarray(i * size, (i + 1) * size),
      label: labels.labels[i]!
    })
  }
}

/** Records in memory; they are ordered by key like a database. */
export const memorySource = <A>(records: ReadonlyArray<{ readonly key: string; readonly value: A }>, name = "memory"): RecordSource<A> => {
  const sorted = [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.key === sorted[i - 1]!.key) throw new RangeError(`${name}: duplicate key "${sorted[i]!.key}"`)
  }
  return { name, size: sorted.length, keyAt: (i) => sorted[i]!.key, at: (i) => sorted[i]!.value }
}
