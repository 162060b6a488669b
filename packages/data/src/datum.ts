/**
 * Datum (de)serialisation for the data package: the codec lives in @deepspark/caffe; this file adds the
 * checks every reader needs (a record that does not decode names the database and key).
 */
import { decodeDatum, encodeDatum } from "@deepspark/caffe"
import type { Datum } from "@deepspark/caffe"
import { RecordError } from "./errors.js"
import { readDatum } from "./datum-view.js"
import { keyText } from "./db/datum-db.js"

export type { Datum }

export { decodeDatum, encodeDatum }

/** Decodes a stored record (`data` may view `value`); an undecodable value raises RecordError naming source and key. */
export const decodeRecord = (source: string, key: Uint8Array, value: Uint8Array): Datum => {
  try {
    return readDatum(value)
  } catch (e) {
    throw new RecordError({
      source,
      key: keyText(key),
      message: `${source}: record "${keyText(key)}" is not a Datum (${(e as Error).message})`
    })
  }
}

/** `%0Nd`, Caffe's caffe::format_int. */
export const formatInt = (n: number, width: number): string => String(n).padStart(width, "0")
