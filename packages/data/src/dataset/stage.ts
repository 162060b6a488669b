/**
 * Staging a partition on a worker's disk as a Caffe LMDB (DeepSpark's "one LMDB per executor").
 *
 * `PartitionStager` is the seam: the driver asks a stager to make `manifest`'s records available at
 * `target` on `worker`. `localStager` does it within one machine (reads the partition, writes an LMDB
 * in key order). A network stager — records streamed over the RPC transport into the same LMDB writer
 * on the worker, then `verifyPartition` run there — belongs with the transport and is not here yet.
 */
import { Effect } from "effect"
import { createLmdb } from "../db/lmdb-writer.js"
import type { Datum } from "../datum.js"
import { encodeDatum } from "../datum.js"
import { PartitionError } from "../errors.js"
import type { RecordSource } from "./dataset.js"
import type { PartitionManifest } from "./verify.js"
import { partitionManifest } from "./verify.js"

export interface StagedPartition {
  readonly worker: string
  readonly path: string
  readonly manifest: PartitionManifest
}

export interface PartitionStager {
  stage(worker: string, manifest: PartitionManifest, target: string): Effect.Effect<StagedPartition, PartitionError>
}

/** Writes a partition's records (Datums or raw Datum bytes), in key order, into a new LMDB. */
export const writePartitionLmdb = async (partition: RecordSource<Datum | Uint8Array>, out: string): Promise<PartitionManifest> => {
  const db = createLmdb(out)
  try {
    for (let i = 0; i < partition.size; i++) {
      const r = partition.at(i)
      db.putSync(partition.keyAt(i), r instanceof Uint8Array ? r : encodeDatum(r))
    }
  } finally {
    await db.close()
  }
  return partitionManifest(partition)
}

/** A stager for partitions this process can read (same machine / shared filesystem). */
export const localStager = (partitions: ReadonlyArray<RecordSource<Datum | Uint8Array>>): PartitionStager => ({
  stage: (worker, manifest, target) =>
    Effect.tryPromise({
      try: async () => {
        const partition = partitions.find((p) => p.name === manifest.partition)
        if (partition === undefined) throw new Error("this stager does not hold it")
        return { worker, path: target, manifest: await writePartitionLmdb(partition, target) }
      },
      catch: (e) =>
        new PartitionError({
          worker,
          partition: manifest.partition,
          message: `cannot stage partition "${manifest.partition}" for worker "${worker}" at ${target}: ${(e as Error).message}`
        })
    })
})
