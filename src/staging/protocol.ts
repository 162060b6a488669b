import * as Rpc from "@effect/rpc/Rpc"
import * as RpcGroup from "@effect/rpc/RpcGroup"
import { Schema } from "effect"
import { boundedString, MAX_MESSAGE_LENGTH, MAX_PATH_LENGTH, MAX_TOKEN_LENGTH } from "../transport/bounded-string.js"

/**
 * Staging partitions onto workers' disks (DeepSpark's `prepareLocal`): a worker asks a staging server
 * for the manifest of partition i/N of a Caffe database the server can read, then for its records in
 * byte-bounded chunks, which it streams into a resumable local LMDB (@deepspark/data's
 * stageRemotePartition). Every request carries the run's shared token, as the center's do.
 *
 * A group of its own, not part of CenterRpcs: staging happens before (and without) a center, and the
 * records may live on another host than x̃. Same framing (length-prefixed msgpack), its own port.
 */

export const StagingRejectReason = Schema.Literal("auth", "not-found", "bad-request")

/** The staging server refused a request (wrong token, no such database, a malformed request). */
export class StagingRejected extends Schema.TaggedError<StagingRejected>()("StagingRejected", {
  reason: StagingRejectReason,
  message: boundedString(MAX_MESSAGE_LENGTH)
}) {}

/** Which partition of which database: `source` is a path relative to the server's folder. */
export const PartitionRefFields = {
  token: boundedString(MAX_TOKEN_LENGTH),
  source: boundedString(MAX_PATH_LENGTH).pipe(Schema.minLength(1)),
  backend: Schema.Literal("lmdb", "leveldb"),
  index: Schema.Int.pipe(Schema.nonNegative()),
  count: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
  mode: Schema.Literal("range", "hash")
}

export const Sha256Hex = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))

/** A key as raw bytes: 1..511 of them (LMDB's limit, which the worker's LMDB writer enforces too). */
export const KeyBytes = Schema.Uint8ArrayFromSelf.pipe(
  Schema.filter((k) => (k.length >= 1 && k.length <= 511) || `a key has ${k.length} bytes (expected 1..511)`)
)

export const PartitionManifest = Rpc.make("PartitionManifest", {
  payload: PartitionRefFields,
  success: Schema.Struct({
    /** `<source>#<mode>-<i>-of-<N>`, Dataset.partition's name. */
    partition: boundedString(MAX_PATH_LENGTH + 64),
    count: Schema.Int.pipe(Schema.nonNegative()),
    firstKey: boundedString(2048),
    lastKey: boundedString(2048),
    /** SHA-256 over all records, framed (see @deepspark/data's stage-remote-format.ts). */
    sha256: Sha256Hex
  }),
  error: StagingRejected
})

/** Most record bytes a client may ask for in one chunk (the server may send less). */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024

export const PartitionChunk = Rpc.make("PartitionChunk", {
  payload: {
    ...PartitionRefFields,
    from: Schema.Int.pipe(Schema.nonNegative()),
    maxBytes: Schema.Int.pipe(Schema.between(1, MAX_CHUNK_BYTES))
  },
  success: Schema.Struct({
    from: Schema.Int.pipe(Schema.nonNegative()),
    keys: Schema.Array(KeyBytes),
    values: Schema.Array(Schema.Uint8ArrayFromSelf),
    /** SHA-256 of exactly these records: a chunk damaged on the way is refused, never written. */
    sha256: Sha256Hex
  }).pipe(
    Schema.filter((c) => (c.keys.length >= 1 && c.keys.length === c.values.length) || `a chunk has ${c.keys.length} keys and ${c.values.length} values`)
  ),
  error: StagingRejected
})

export class StagingRpcs extends RpcGroup.make(PartitionManifest, PartitionChunk) {}
