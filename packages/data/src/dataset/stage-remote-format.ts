/**
 * The bytes of remote staging: the checksum a partition is verified by, and the append-only staging
 * file a worker streams chunks into.
 *
 * Checksum: SHA-256 over every record in partition order, each framed as
 * `u32be keyLength, key, u32be valueLength, value` (framing makes it unambiguous: moving a byte from a
 * key to its value changes it). The same framing hashes one chunk, so a chunk damaged in transit is
 * caught before it is written.
 *
 * Staging file: `HEADER_MAGIC`, u32be length, the manifest as JSON (which partition, how many records,
 * its checksum), then one block per chunk:
 *   `CHUNK_MAGIC`, u32be from, u32be n, u32be payloadLength, payload (the framed records), 32-byte
 *   SHA-256 of the payload.
 * A block counts only when all of it is on disk and its hash matches; an interrupted write leaves a
 * short tail that the next call truncates. The blocks' (from, n) are the progress record.
 */
import { createHash, type Hash } from "node:crypto"

export const HEADER_MAGIC = new TextEncoder().encode("DSSTAGE1")
export const CHUNK_MAGIC = 0x43484e4b // "CHNK"
export const BLOCK_HEADER_BYTES = 16
export const BLOCK_HASH_BYTES = 32

export interface StagedRecord {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

/** Feeds one framed record into a running hash. */
export const hashRecord = (hash: Hash, key: Uint8Array, value: Uint8Array): void => {
  hash.update(u32(key.length))
  hash.update(key)
  hash.update(u32(value.length))
  hash.update(value)
}

export const newRecordsHash = (): Hash => createHash("sha256")

/** Hex SHA-256 of records in order (the chunk checksum; the partition checksum over all of them). */
export const recordsChecksum = (keys: ReadonlyArray<Uint8Array>, values: ReadonlyArray<Uint8Array>): string => {
  const h = newRecordsHash()
  for (let i = 0; i < keys.length; i++) hashRecord(h, keys[i]!, values[i]!)
  return h.digest("hex")
}

/** The payload of a block: the framed records, back to back. */
export const encodeRecords = (keys: ReadonlyArray<Uint8Array>, values: ReadonlyArray<Uint8Array>): Uint8Array => {
  let size = 0
  for (let i = 0; i < keys.length; i++) size += 8 + keys[i]!.length + values[i]!.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    const v = values[i]!
    view.setUint32(at, k.length)
    out.set(k, at + 4)
    at += 4 + k.length
    view.setUint32(at, v.length)
    out.set(v, at + 4)
    at += 4 + v.length
  }
  return out
}

/** Splits a payload back into records (views into it); null when the framing does not add up to `n`. */
export const decodeRecords = (payload: Uint8Array, n: number): Array<StagedRecord> | null => {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const out: Array<StagedRecord> = []
  let at = 0
  for (let i = 0; i < n; i++) {
    if (at + 4 > payload.length) return null
    const kl = view.getUint32(at)
    if (at + 4 + kl + 4 > payload.length) return null
    const key = payload.subarray(at + 4, at + 4 + kl)
    at += 4 + kl
    const vl = view.getUint32(at)
    if (at + 4 + vl > payload.length) return null
    out.push({ key, value: payload.subarray(at + 4, at + 4 + vl) })
    at += 4 + vl
  }
  return at === payload.length ? out : null
}

/** A whole block: header, payload, hash of the payload. */
export const encodeBlock = (from: number, n: number, payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(BLOCK_HEADER_BYTES + payload.length + BLOCK_HASH_BYTES)
  const view = new DataView(out.buffer)
  view.setUint32(0, CHUNK_MAGIC)
  view.setUint32(4, from)
  view.setUint32(8, n)
  view.setUint32(12, payload.length)
  out.set(payload, BLOCK_HEADER_BYTES)
  out.set(createHash("sha256").update(payload).digest(), BLOCK_HEADER_BYTES + payload.length)
  return out
}

export const encodeHeader = (manifestJson: string): Uint8Array => {
  const json = new TextEncoder().encode(manifestJson)
  const out = new Uint8Array(HEADER_MAGIC.length + 4 + json.length)
  out.set(HEADER_MAGIC, 0)
  new DataView(out.buffer).setUint32(HEADER_MAGIC.length, json.length)
  out.set(json, HEADER_MAGIC.length + 4)
  return out
}
