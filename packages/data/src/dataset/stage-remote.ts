/**
 * Remote staging, the worker's end (DeepSpark's `prepareLocal`): a partition served by another machine
 * becomes a Caffe LMDB on this worker's disk.
 *
 * Chunks of records arrive through a `StagingFetcher` (the RPC client lives in src/staging; tests may
 * call a `partitionServer` directly) and are appended, each as a self-verifying block, to
 * `<target>.staging`. An interrupted transfer therefore resumes from the last complete chunk on the next
 * call. When all records are there and their running SHA-256 matches the server's manifest, the LMDB is
 * bulk-written to `<target>.building` (keys as in the source), re-read and verified (count, first/last
 * key, checksum, `verifyPartition`), given a `deepspark-staged.json` marker, and renamed to `<target>`;
 * the staging file is removed. A target that already holds the marker for this partition is checked
 * with `verifyPartition` (count, end keys and records) and returned without contacting the server.
 */
import { createHash } from "node:crypto"
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs"
import path from "node:path"
import { Effect } from "effect"
import { keyText } from "../db/datum-db.js"
import { compareKeys } from "../db/lmdb-format.js"
import { openLmdb } from "../db/lmdb-reader.js"
import { createLmdb } from "../db/lmdb-writer.js"
import { PartitionError } from "../errors.js"
import { Dataset } from "./dataset.js"
import { databaseSource } from "./sources.js"
import type { PartitionStager, StagedPartition } from "./stage.js"
import {
  BLOCK_HASH_BYTES,
  BLOCK_HEADER_BYTES,
  CHUNK_MAGIC,
  decodeRecords,
  encodeBlock,
  encodeHeader,
  encodeRecords,
  hashRecord,
  HEADER_MAGIC,
  newRecordsHash,
  recordsChecksum
} from "./stage-remote-format.js"
import type { RemoteManifest, StagingChunk, StagingRef } from "./stage-remote-server.js"
import { describeRef } from "./stage-remote-server.js"
import type { PartitionManifest } from "./verify.js"
import { verifyPartition } from "./verify.js"

/** How a worker reaches the records (an RPC client, or a partitionServer in the same process). */
export interface StagingFetcher<E = unknown> {
  manifest(ref: StagingRef): Effect.Effect<RemoteManifest, E>
  chunk(ref: StagingRef, from: number, maxBytes: number): Effect.Effect<StagingChunk, E>
}

export interface RemoteStageOptions<E> {
  readonly fetcher: StagingFetcher<E>
  readonly worker: string
  readonly ref: StagingRef
  /** The LMDB directory to create. */
  readonly target: string
  /** Record bytes asked for per chunk (default 1 MiB; the server may send less). */
  readonly chunkBytes?: number
  /** The driver's plan for this partition: the server's manifest must agree with it. */
  readonly expected?: PartitionManifest
}

export interface RemoteStaged extends StagedPartition {
  readonly manifest: RemoteManifest
  /** Chunks fetched by this call (0 when the target was already staged). */
  readonly fetchedChunks: number
  /** The record this call's transfer started at (> 0 when it resumed). */
  readonly resumedFrom: number
  readonly alreadyStaged: boolean
}

export const STAGED_MARKER = "deepspark-staged.json"

interface Marker {
  readonly format: "deepspark-staged/1"
  readonly ref: StagingRef
  readonly manifest: RemoteManifest
}

const sameRef = (a: StagingRef, b: StagingRef): boolean =>
  a.source === b.source && a.backend === b.backend && a.index === b.index && a.count === b.count && a.mode === b.mode

const sameManifest = (a: RemoteManifest, b: RemoteManifest): boolean =>
  a.partition === b.partition && a.count === b.count && a.firstKey === b.firstKey && a.lastKey === b.lastKey && a.sha256 === b.sha256

const messageOf = (e: unknown): string => {
  if (e !== null && typeof e === "object") {
    const o = e as { _tag?: unknown; reason?: unknown; message?: unknown }
    const tag = typeof o._tag === "string" ? `${o._tag}${typeof o.reason === "string" ? ` (${o.reason})` : ""}: ` : ""
    if (typeof o.message === "string") return `${tag}${o.message}`
  }
  return String(e)
}

/** Thrown inside the synchronous steps; becomes the PartitionError. */
class StageFailure extends Error {}

/** A block read back from the staging file. */
type Block =
  | { readonly kind: "ok"; readonly offset: number; readonly end: number; readonly from: number; readonly n: number; readonly payload: Uint8Array }
  | { readonly kind: "short"; readonly offset: number }
  | { readonly kind: "corrupt"; readonly offset: number; readonly from: number; readonly n: number; readonly why: string }

const readExact = (fd: number, length: number, position: number): Uint8Array => {
  const buf = new Uint8Array(length)
  let got = 0
  while (got < length) {
    const r = readSync(fd, buf, got, length - got, position + got)
    if (r === 0) break
    got += r
  }
  return got === length ? buf : buf.subarray(0, got)
}

/** Blocks of the staging file from `offset` on; stops after the first short or corrupt one. */
function* readBlocks(fd: number, offset: number): Generator<Block> {
  const size = fstatSync(fd).size
  let at = offset
  while (at < size) {
    if (size - at < BLOCK_HEADER_BYTES) return yield { kind: "short", offset: at }
    const head = new DataView(readExact(fd, BLOCK_HEADER_BYTES, at).buffer)
    const magic = head.getUint32(0)
    const from = head.getUint32(4)
    const n = head.getUint32(8)
    const length = head.getUint32(12)
    if (magic !== CHUNK_MAGIC) return yield { kind: "corrupt", offset: at, from, n, why: "its block header is damaged" }
    const end = at + BLOCK_HEADER_BYTES + length + BLOCK_HASH_BYTES
    if (end > size) return yield { kind: "short", offset: at }
    const payload = readExact(fd, length, at + BLOCK_HEADER_BYTES)
    const hash = readExact(fd, BLOCK_HASH_BYTES, at + BLOCK_HEADER_BYTES + length)
    if (!Buffer.from(hash).equals(createHash("sha256").update(payload).digest())) {
      return yield { kind: "corrupt", offset: at, from, n, why: "its SHA-256 does not match its bytes" }
    }
    yield { kind: "ok", offset: at, end, from, n, payload }
    at = end
  }
}

const readMarker = (target: string): Marker | undefined => {
  const file = path.join(target, STAGED_MARKER)
  if (!existsSync(file)) return undefined
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as Marker
    return m.format === "deepspark-staged/1" ? m : undefined
  } catch {
    return undefined
  }
}

/** SHA-256 and manifest of an LMDB's records, read back from disk. */
const lmdbManifest = (dir: string, partition: string): RemoteManifest => {
  const ds = new Dataset(databaseSource(openLmdb(dir)), null, partition)
  try {
    const hash = newRecordsHash()
    for (let i = 0; i < ds.size; i++) hashRecord(hash, Buffer.from(ds.keyAt(i)), ds.at(i))
    return {
      partition,
      count: ds.size,
      firstKey: ds.size > 0 ? ds.keyAt(0) : "",
      lastKey: ds.size > 0 ? ds.keyAt(ds.size - 1) : "",
      sha256: hash.digest("hex")
    }
  } finally {
    void ds.close()
  }
}

/** Stages one partition; see the file comment. Errors name the source, the partition and what mismatched. */
export const stageRemotePartition = <E>(options: RemoteStageOptions<E>): Effect.Effect<RemoteStaged, PartitionError> => {
  const { fetcher, worker, ref } = options
  const target = path.resolve(options.target)
  const stagingFile = `${target}.staging`
  const buildDir = `${target}.building`
  const chunkBytes = options.chunkBytes ?? 1024 * 1024
  const what = describeRef(ref)
  const error = (why: string) => new PartitionError({ worker, partition: what, message: `worker "${worker}" staging ${what} at ${target}: ${why}` })
  const attempt = <A>(f: () => A): Effect.Effect<A, PartitionError> =>
    Effect.try({ try: f, catch: (e) => error(e instanceof StageFailure ? e.message : `${(e as Error).message}`) })
  const fail = (why: string): never => {
    throw new StageFailure(why)
  }
  /** verifyPartition on an LMDB plus its checksum against the manifest. */
  const verifyLmdb = (dir: string, manifest: RemoteManifest) =>
    Effect.gen(function* () {
      const found = yield* attempt(() => lmdbManifest(dir, manifest.partition))
      if (found.sha256 !== manifest.sha256) return yield* Effect.fail(error(`the LMDB at ${dir} hashes to ${found.sha256}, the manifest says ${manifest.sha256}`))
      const ds = yield* attempt(() => new Dataset(databaseSource(openLmdb(dir)), null, manifest.partition))
      yield* verifyPartition(worker, ds, manifest).pipe(
        Effect.mapError((e) => error(e.message)),
        Effect.ensuring(Effect.promise(() => ds.close()))
      )
    })

  return Effect.gen(function* () {
    // 1. Already staged: verify locally and return, without the server.
    if (existsSync(target)) {
      const marker = readMarker(target)
      if (marker === undefined) return yield* Effect.fail(error(`${target} exists and is not a staged partition (no ${STAGED_MARKER}); refusing to overwrite it`))
      if (!sameRef(marker.ref, ref)) return yield* Effect.fail(error(`${target} already holds ${describeRef(marker.ref)}`))
      // Its checksum was verified when it was built; here the cheap proof that it is still readable.
      const ds = yield* attempt(() => new Dataset(databaseSource(openLmdb(target)), null, marker.manifest.partition))
      yield* verifyPartition(worker, ds, marker.manifest).pipe(
        Effect.mapError((e) => error(e.message)),
        Effect.ensuring(Effect.promise(() => ds.close()))
      )
      return { worker, path: target, manifest: marker.manifest, fetchedChunks: 0, resumedFrom: marker.manifest.count, alreadyStaged: true }
    }

    // 2. What the server will send.
    const manifest = yield* fetcher.manifest(ref).pipe(Effect.mapError((e) => error(`the staging server did not give the manifest: ${messageOf(e)}`)))
    if (manifest.count === 0) return yield* Effect.fail(error("the partition has no records"))
    const expected = options.expected
    if (expected !== undefined) {
      const diffs: Array<string> = []
      if (expected.count !== manifest.count) diffs.push(`count ${manifest.count}, the plan says ${expected.count}`)
      if (expected.firstKey !== manifest.firstKey) diffs.push(`first key "${manifest.firstKey}", the plan says "${expected.firstKey}"`)
      if (expected.lastKey !== manifest.lastKey) diffs.push(`last key "${manifest.lastKey}", the plan says "${expected.lastKey}"`)
      if (diffs.length > 0) return yield* Effect.fail(error(`the server's manifest disagrees with the plan: ${diffs.join("; ")}`))
    }

    // 3. Open the staging file and find where a previous transfer stopped.
    const headerJson = JSON.stringify({ ref, manifest })
    const resume = yield* attempt(() => {
      if (existsSync(stagingFile)) {
        const fd = openSync(stagingFile, "r+")
        let keep = false
        try {
          const start = readExact(fd, HEADER_MAGIC.length + 4, 0)
          const sameMagic = start.length === HEADER_MAGIC.length + 4 && Buffer.from(start.subarray(0, HEADER_MAGIC.length)).equals(HEADER_MAGIC)
          const jsonLength = sameMagic ? new DataView(start.buffer).getUint32(HEADER_MAGIC.length) : 0
          const json = sameMagic ? Buffer.from(readExact(fd, jsonLength, start.length)).toString("utf8") : ""
          let header: { ref?: StagingRef; manifest?: RemoteManifest } | undefined
          try {
            header = JSON.parse(json) as typeof header
          } catch {
            header = undefined
          }
          // A staging file for other records (or another version of the source) is started afresh.
          if (header?.ref !== undefined && header.manifest !== undefined && sameRef(header.ref, ref) && sameManifest(header.manifest, manifest)) {
            const hash = newRecordsHash()
            let next = 0
            let lastKey: Uint8Array | undefined
            let end = start.length + jsonLength
            for (const block of readBlocks(fd, end)) {
              if (block.kind === "short") break
              const records = block.kind === "ok" && block.from === next && block.n > 0 ? decodeRecords(block.payload, block.n) : null
              if (block.kind === "corrupt" || records === null) {
                const k = block.kind === "corrupt" ? block.why : `it holds records [${block.from}, ${block.from + block.n}) where [${next}, …) was due`
                ftruncateSync(fd, block.offset)
                fdatasyncSync(fd)
                fail(
                  `the staging file ${stagingFile} is corrupt at byte ${block.offset} (the chunk after record ${next}): ${k}; ` +
                    `it was cut back to the ${next} good records, and staging again resumes there`
                )
              }
              for (const r of records!) {
                if (lastKey !== undefined && compareKeys(r.key, lastKey) <= 0) fail(`the staging file ${stagingFile} has key "${keyText(r.key)}" out of order`)
                hashRecord(hash, r.key, r.value)
                lastKey = r.key
              }
              next += block.n
              end = (block as { end: number }).end
            }
            ftruncateSync(fd, end) // drops a chunk whose write was interrupted
            keep = true
            return { fd, hash, next, lastKey, writeAt: end }
          }
        } finally {
          if (!keep) closeSync(fd)
        }
      }
      const fd = openSync(stagingFile, "w+")
      const header = encodeHeader(headerJson)
      writeSync(fd, header, 0, header.length, 0)
      fdatasyncSync(fd)
      return { fd, hash: newRecordsHash(), next: 0, lastKey: undefined as Uint8Array | undefined, writeAt: header.length }
    })

    // 4. Fetch the rest, one verified block at a time.
    const resumedFrom = resume.next
    let { next, lastKey, writeAt } = resume
    let fetchedChunks = 0
    const transfer = Effect.gen(function* () {
      while (next < manifest.count) {
        const chunk = yield* fetcher
          .chunk(ref, next, chunkBytes)
          .pipe(Effect.mapError((e) => error(`fetching records from ${next} failed after ${fetchedChunks} chunk(s) (${next} of ${manifest.count} records staged; staging again resumes there): ${messageOf(e)}`)))
        yield* attempt(() => {
          const n = chunk.keys.length
          const at = `the chunk at record ${next}`
          if (chunk.from !== next) fail(`${at} came back starting at record ${chunk.from}`)
          if (n === 0 || chunk.values.length !== n) fail(`${at} has ${n} keys and ${chunk.values.length} values`)
          if (next + n > manifest.count) fail(`${at} holds ${n} records, past the partition's ${manifest.count}`)
          if (recordsChecksum(chunk.keys, chunk.values) !== chunk.sha256) fail(`${at} does not match its SHA-256 (damaged in transit); nothing of it was kept`)
          if (next === 0 && keyText(chunk.keys[0]!) !== manifest.firstKey) fail(`the first key is "${keyText(chunk.keys[0]!)}", the manifest says "${manifest.firstKey}"`)
          for (const key of chunk.keys) {
            if (lastKey !== undefined && compareKeys(key, lastKey) <= 0) fail(`${at}: key "${keyText(key)}" does not follow "${keyText(lastKey)}"`)
            lastKey = key
          }
          const block = encodeBlock(next, n, encodeRecords(chunk.keys, chunk.values))
          writeSync(resume.fd, block, 0, block.length, writeAt)
          writeAt += block.length
          fdatasyncSync(resume.fd)
          for (let i = 0; i < n; i++) hashRecord(resume.hash, chunk.keys[i]!, chunk.values[i]!)
          next += n
          fetchedChunks++
        })
      }
    })
    yield* transfer.pipe(Effect.ensuring(Effect.sync(() => closeSync(resume.fd))))

    // 5. The whole partition: count, last key and checksum against the manifest.
    const digest = resume.hash.digest("hex")
    const last = lastKey !== undefined ? keyText(lastKey) : ""
    if (digest !== manifest.sha256 || last !== manifest.lastKey) {
      rmSync(stagingFile, { force: true })
      return yield* Effect.fail(
        error(
          `checksum mismatch: the ${next} staged records (last key "${last}") hash to ${digest}, the server's manifest says ${manifest.sha256} ` +
            `(last key "${manifest.lastKey}"); the staging file was removed and staging again starts over`
        )
      )
    }

    // 6. Build the LMDB beside the target, verify it, then move it into place.
    yield* Effect.tryPromise({
      try: async () => {
        rmSync(buildDir, { recursive: true, force: true })
        const db = createLmdb(buildDir)
        const fd = openSync(stagingFile, "r")
        try {
          const start = readExact(fd, HEADER_MAGIC.length + 4, 0)
          const blocksAt = start.length + new DataView(start.buffer).getUint32(HEADER_MAGIC.length)
          for (const block of readBlocks(fd, blocksAt)) {
            if (block.kind !== "ok") fail(`the staging file ${stagingFile} changed while the LMDB was built (byte ${block.offset})`)
            const ok = block as Extract<Block, { kind: "ok" }>
            for (const r of decodeRecords(ok.payload, ok.n)!) db.putSync(r.key, r.value)
          }
        } finally {
          closeSync(fd)
          await db.close()
        }
        const marker: Marker = { format: "deepspark-staged/1", ref, manifest }
        writeFileSync(path.join(buildDir, STAGED_MARKER), `${JSON.stringify(marker, null, 2)}\n`)
      },
      catch: (e) => error(`building the LMDB at ${buildDir} failed: ${(e as Error).message}`)
    })
    yield* verifyLmdb(buildDir, manifest)
    yield* attempt(() => {
      renameSync(buildDir, target)
      unlinkSync(stagingFile)
    })
    return { worker, path: target, manifest, fetchedChunks, resumedFrom, alreadyStaged: false }
  })
}

/** `<source>#<mode>-<i>-of-<N>` (Dataset.partition's name for a partition) → which partition to fetch. */
export const stagingRefFromName = (name: string, backend: StagingRef["backend"]): StagingRef | undefined => {
  const m = /^(.*)#(range|hash)-(\d+)-of-(\d+)$/.exec(name)
  return m ? { source: m[1]!, backend, mode: m[2] as StagingRef["mode"], index: Number(m[3]), count: Number(m[4]) } : undefined
}

/**
 * The PartitionStager over a staging server: the driver's manifest names its partition as
 * Dataset.partition does, over the source path the server resolves (`<source>#range-i-of-N`).
 */
export const remoteStager = <E>(fetcher: StagingFetcher<E>, options: { readonly backend: StagingRef["backend"]; readonly chunkBytes?: number }): PartitionStager => ({
  stage: (worker, manifest, target) => {
    const ref = stagingRefFromName(manifest.partition, options.backend)
    if (ref === undefined) {
      return Effect.fail(
        new PartitionError({ worker, partition: manifest.partition, message: `partition name "${manifest.partition}" is not <source>#<range|hash>-<i>-of-<N>` })
      )
    }
    return stageRemotePartition({
      fetcher,
      worker,
      ref,
      target,
      expected: manifest,
      ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {})
    })
  }
})
