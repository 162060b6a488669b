/** Opens a record database of either backend (Caffe's DataParameter.backend; LEVELDB when absent). */
import type { Backend, DatumDb, DatumDbWriter } from "./datum-db.js"
import { createLevelDb, openLevelDb } from "./leveldb.js"
import { openLmdb } from "./lmdb-reader.js"
import { createLmdb } from "./lmdb-writer.js"

export const openDatumDb = async (path: string, backend: Backend): Promise<DatumDb> =>
  backend === "lmdb" ? openLmdb(path) : openLevelDb(path)

export const createDatumDb = async (path: string, backend: Backend, options: { batchSize?: number } = {}): Promise<DatumDbWriter> =>
  backend === "lmdb" ? createLmdb(path) : createLevelDb(path, options.batchSize ?? 1000)
