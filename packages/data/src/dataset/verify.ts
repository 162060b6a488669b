/**
 * Placement verification: before training, a worker proves it can read the partition it was given —
 * count, first and last key, and the first and last records themselves — and that they match the plan
 * the driver made (a manifest). Failures name the worker and the partition.
 */
import { Effect } from "effect"
import { PartitionError } from "../errors.js"
import type { RecordSource } from "./dataset.js"

export interface PartitionManifest {
  readonly partition: string
  readonly count: number
  readonly firstKey: string
  readonly lastKey: string
}

export const partitionManifest = (partition: RecordSource<unknown>): PartitionManifest => ({
  partition: partition.name,
  count: partition.size,
  firstKey: partition.size > 0 ? partition.keyAt(0) : "",
  lastKey: partition.size > 0 ? partition.keyAt(partition.size - 1) : ""
})

export const verifyPartition = (
  worker: string,
  partition: RecordSource<unknown>,
  expected?: PartitionManifest
): Effect.Effect<PartitionManifest, PartitionError> =>
  Effect.try({
    try: () => {
      const fail = (why: string): never => {
        throw new PartitionError({
          worker,
          partition: expected?.partition ?? partition.name,
          message: `worker "${worker}" cannot use partition "${expected?.partition ?? partition.name}": ${why}`
        })
      }
      if (partition.size === 0) fail("it has no records")
      const found = partitionManifest(partition)
      // Reading the end records proves the values (not just the keys) are there and decodable.
      partition.at(0)
      partition.at(partition.size - 1)
      if (expected !== undefined) {
        if (found.count !== expected.count) fail(`it holds ${found.count} records, expected ${expected.count}`)
        if (found.firstKey !== expected.firstKey) fail(`first key "${found.firstKey}", expected "${expected.firstKey}"`)
        if (found.lastKey !== expected.lastKey) fail(`last key "${found.lastKey}", expected "${expected.lastKey}"`)
      }
      return found
    },
    catch: (e) =>
      e instanceof PartitionError
        ? e
        : new PartitionError({
            worker,
            partition: expected?.partition ?? partition.name,
            message: `worker "${worker}" cannot read partition "${expected?.partition ?? partition.name}": ${(e as Error).message}`
          })
  })
