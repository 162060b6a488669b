/**
 * The serving end of remote staging, independent of any transport: partitions of Caffe databases
 * (LMDB or LevelDB) under a root folder, described by a manifest (count, first/last key, SHA-256 over
 * all records) and read in byte-bounded chunks of raw records.
 *
 * Partitions are `Dataset.partition`'s — the rule the Data layer's partition source trains on — over
 * the database opened by its path relative to the root, so a partition is named
 * `<source>#<mode>-<i>-of-<N>` on the server, on the driver and on the worker alike. Databases, partition
 * plans and manifests are computed once and cached for the server's life (a database rewritten in place
 * while being served is not detected; restart the server). The checksum pass yields to the event loop
 * every few MB so a center sharing the process keeps answering exchanges.
 */
import path from "node:path"
import { setImmediate as yieldToLoop } from "node:timers/promises"
import { Data } from "effect"
import type { Backend } from "../db/datum-db.js"
import { keyBytes } from "../db/datum-db.js"
import { openDatumDb } from "../db/open.js"
import type { PartitionMode } from "./dataset.js"
import { Dataset } from "./dataset.js"
import { databaseSource } from "./sources.js"
import type { PartitionManifest } from "./verify.js"
import { hashRecord, newRecordsHash, recordsChecksum } from "./stage-remote-format.js"

/** Which partition of which database (path relative to the server's root). */
export interface StagingRef {
  readonly source: string
  readonly backend: Backend
  readonly index: number
  readonly count: number
  readonly mode: PartitionMode
}

export interface RemoteManifest extends PartitionManifest {
  /** Hex SHA-256 over the partition's records (see stage-remote-format.ts). */
  readonly sha256: string
}

/** Records [from, from + keys.length) of a partition, with the hex SHA-256 of exactly these records. */
export interface StagingChunk {
  readonly from: number
  readonly keys: ReadonlyArray<Uint8Array>
  readonly values: ReadonlyArray<Uint8Array>
  readonly sha256: string
}

export class StagingSourceError extends Data.TaggedError("StagingSourceError")<{
  readonly reason: "not-found" | "bad-request"
  readonly message: string
}> {}

export interface PartitionServerOptions {
  /** Sources resolve from here (default: the working directory); paths may not leave it. */
  readonly root?: string
  /** Upper bound of a chunk's record bytes, whatever the client asks (default 4 MiB). */
  readonly maxChunkBytes?: number
}

export interface PartitionServer {
  manifest(ref: StagingRef): Promise<RemoteManifest>
  chunk(ref: StagingRef, from: number, maxBytes: number): Promise<StagingChunk>
  close(): Promise<void>
}

export const describeRef = (ref: StagingRef): string => `${ref.mode} partition ${ref.index}/${ref.count} of ${ref.source}`

const HASH_SLICE_BYTES = 8 * 1024 * 1024

export const partitionServer = (options: PartitionServerOptions = {}): PartitionServer => {
  const root = path.resolve(options.root ?? ".")
  const maxChunkBytes = options.maxChunkBytes ?? 4 * 1024 * 1024
  const databases = new Map<string, Promise<Dataset<Uint8Array>>>()
  const plans = new Map<string, Promise<Array<Dataset<Uint8Array>>>>()
  const manifests = new Map<string, Promise<RemoteManifest>>()

  const resolveSource = (ref: StagingRef): string => {
    const abs = path.resolve(root, ref.source)
    const rel = path.relative(root, abs)
    if (path.isAbsolute(ref.source) || rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new StagingSourceError({ reason: "bad-request", message: `source "${ref.source}" must be a path inside the server's folder ${root}` })
    }
    return abs
  }

  const memo = <A>(cache: Map<string, Promise<A>>, key: string, make: () => Promise<A>): Promise<A> => {
    let p = cache.get(key)
    if (p === undefined) {
      p = make()
      cache.set(key, p)
      // A failure is not cached: the database may appear later.
      p.catch(() => cache.delete(key))
    }
    return p
  }

  const database = (ref: StagingRef): Promise<Dataset<Uint8Array>> => {
    const abs = resolveSource(ref)
    return memo(databases, `${ref.backend}:${abs}`, async () => {
      try {
        // Named by the client's relative path, so partition names agree across machines.
        return new Dataset(databaseSource(await openDatumDb(abs, ref.backend)), null, ref.source)
      } catch (e) {
        throw new StagingSourceError({ reason: "not-found", message: `cannot open ${ref.backend} database "${ref.source}" (${abs}): ${(e as Error).message}` })
      }
    })
  }

  const partition = async (ref: StagingRef): Promise<Dataset<Uint8Array>> => {
    if (!Number.isInteger(ref.count) || ref.count < 1 || !Number.isInteger(ref.index) || ref.index < 0 || ref.index >= ref.count) {
      throw new StagingSourceError({ reason: "bad-request", message: `${describeRef(ref)}: expected integers 0 ≤ index < count` })
    }
    const db = await database(ref)
    const plan = await memo(plans, `${ref.backend}:${resolveSource(ref)}:${ref.mode}:${ref.count}`, async () => db.partition(ref.count, { mode: ref.mode }))
    return plan[ref.index]!
  }

  const computeManifest = async (part: Dataset<Uint8Array>): Promise<RemoteManifest> => {
    const hash = newRecordsHash()
    let sinceYield = 0
    for (let i = 0; i < part.size; i++) {
      const value = part.at(i)
      hashRecord(hash, keyBytes(part.keyAt(i)), value)
      sinceYield += value.length
      if (sinceYield >= HASH_SLICE_BYTES) {
        sinceYield = 0
        await yieldToLoop()
      }
    }
    return {
      partition: part.name,
      count: part.size,
      firstKey: part.size > 0 ? part.keyAt(0) : "",
      lastKey: part.size > 0 ? part.keyAt(part.size - 1) : "",
      sha256: hash.digest("hex")
    }
  }

  return {
    manifest: (ref) =>
      memo(manifests, `${ref.backend}:${resolveSource(ref)}:${ref.mode}:${ref.count}:${ref.index}`, async () => computeManifest(await partition(ref))),

    chunk: async (ref, from, maxBytes) => {
      const part = await partition(ref)
      if (!Number.isInteger(from) || from < 0 || from >= part.size) {
        throw new StagingSourceError({ reason: "bad-request", message: `${describeRef(ref)}: chunk start ${from} outside [0, ${part.size})` })
      }
      const budget = Math.max(1, Math.min(maxBytes, maxChunkBytes))
      const keys: Array<Uint8Array> = []
      const values: Array<Uint8Array> = []
      let bytes = 0
      // At least one record, then as many as fit the budget.
      for (let i = from; i < part.size; i++) {
        const key = keyBytes(part.keyAt(i))
        const value = part.at(i)
        const size = 8 + key.length + value.length
        if (keys.length > 0 && bytes + size > budget) break
        keys.push(key)
        values.push(value)
        bytes += size
      }
      return { from, keys, values, sha256: recordsChecksum(keys, values) }
    },

    close: async () => {
      const open = [...databases.values()]
      databases.clear()
      plans.clear()
      manifests.clear()
      for (const p of open) {
        const db = await p.catch(() => undefined)
        await db?.close()
      }
    }
  }
}
