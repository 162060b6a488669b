/**
 * convert_cifar_data: CIFAR-10 binary batches (records of 1 label byte + 3072 bytes: R, G, B planes of
 * 32×32) → Datums (channels 3, 32×32, data in CIFAR order, label = leading byte), keys `%05d`.
 * Training: data_batch_1..5.bin → cifar10_train_<backend>; test_batch.bin → cifar10_test_<backend>.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import type { Backend, DatumDbWriter } from "../db/datum-db.js"
import { createDatumDb } from "../db/open.js"
import { encodeDatum, formatInt } from "../datum.js"
import { DatumDbError } from "../errors.js"
import type { ConvertResult } from "./mnist.js"

export const CIFAR_RECORD_SIZE = 1 + 3 * 32 * 32

const readBatch = (file: string): Uint8Array => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new DatumDbError({ path: file, message: `${file}: cannot read CIFAR-10 batch (${(e as Error).message})` })
  }
  if (bytes.length % CIFAR_RECORD_SIZE !== 0) {
    throw new DatumDbError({
      path: file,
      message: `${file}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_SIZE}-byte CIFAR-10 records`
    })
  }
  return bytes
}

/** Appends a batch file's records with keys `%05d` from `firstId`; returns the record count. */
const appendBatch = async (db: DatumDbWriter, file: string, firstId: number): Promise<number> => {
  const bytes = readBatch(file)
  const n = bytes.length / CIFAR_RECORD_SIZE
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR_RECORD_SIZE
    await db.put(
      formatInt(firstId + i, 5),
      encodeDatum({ channels: 3, height: 32, width: 32, data: bytes.subarray(at + 1, at + CIFAR_RECORD_SIZE), label: bytes[at]! })
    )
  }
  return n
}

/** Converts the given batch files, in order, into one database. */
export const convertCifarBatches = async (
  files: ReadonlyArray<string>,
  out: string,
  options: { backend?: Backend } = {}
): Promise<ConvertResult> => {
  const db = await createDatumDb(out, options.backend ?? "lmdb")
  let count = 0
  try {
    // Caffe keys item j of batch file f as f·10000 + j (files of 10000 records)
    for (const file of files) count += await appendBatch(db, file, count)
  } finally {
    await db.close()
  }
  return { path: out, count }
}

/** The whole tool: INPUT holds data_batch_1..5.bin and test_batch.bin. */
export const convertCifar = async (
  inputFolder: string,
  outputFolder: string,
  options: { backend?: Backend } = {}
): Promise<{ train: ConvertResult; test: ConvertResult }> => {
  const backend = options.backend ?? "lmdb"
  const train = await convertCifarBatches(
    [1, 2, 3, 4, 5].map((i) => path.join(inputFolder, `data_batch_${i}.bin`)),
    path.join(outputFolder, `cifar10_train_${backend}`),
    { backend }
  )
  const test = await convertCifarBatches(
    [path.join(inputFolder, "test_batch.bin")],
    path.join(outputFolder, `cifar10_test_${backend}`),
    { backend }
  )
  return { train, test }
}
