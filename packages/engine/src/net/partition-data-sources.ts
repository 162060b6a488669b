import type { NetParameter, NetState } from "@deepspark/caffe"
import type { PartitionBatchSource, PartitionSpec } from "@deepspark/data"
import type { Rng } from "../core/rng.js"
import { openNetDataSources, type NetDataSources } from "./data-sources.js"

export interface PartitionNetDataSources extends NetDataSources {
  /** Each Data layer's resume point (JSON), by layer name: save with a checkpoint, pass back as `cursors`. */
  cursors(): Record<string, string>
  readonly partitionSources: ReadonlyArray<{ readonly layer: string; readonly source: PartitionBatchSource }>
}

export interface PartitionNetDataSourcesOptions {
  readonly state?: NetState
  readonly rng: Rng
  readonly baseDir?: string
  /** The worker's share of every Data layer's database. */
  readonly partition: PartitionSpec
  /** Cursors saved from `cursors()`; a layer without one starts at its partition's first record. */
  readonly cursors?: Readonly<Record<string, string>>
  /** Shuffle each partition per epoch (seeded), instead of Caffe's key order. */
  readonly shuffle?: boolean
  readonly seed?: number
  /** The worker, named in partition errors. */
  readonly worker?: string
  /**
   * Data layers whose partition was staged into an LMDB of its own (by layer name: the LMDB's path,
   * relative to baseDir): they read that copy whole instead of partitioning their source; their
   * cursors are the same as a direct read's (see openPartitionBatchSource's `staged`).
   */
  readonly staged?: Readonly<Record<string, string>>
}

/**
 * openNetDataSources for a worker of the distributed runtime: each Data layer reads only its partition
 * of the database (@deepspark/data's openPartitionBatchSource) and can resume exactly from a cursor.
 */
export const openPartitionNetDataSources = async (net: NetParameter, options: PartitionNetDataSourcesOptions): Promise<PartitionNetDataSources> => {
  const { openPartitionBatchSource } = await import("@deepspark/data")
  const opened: Array<{ layer: string; source: PartitionBatchSource }> = []
  const base = await openNetDataSources(net, {
    ...(options.state !== undefined ? { state: options.state } : {}),
    rng: options.rng,
    ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
    openSource: async (o) => {
      const layer = o.layer ?? ""
      if (opened.some((s) => s.layer === layer)) throw new Error(`Data layer "${layer}": two Data layers share the name, their cursors could not be told apart`)
      const cursor = options.cursors?.[layer]
      const staged = options.staged?.[layer]
      const source = await openPartitionBatchSource({
        ...o,
        partition: options.partition,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(staged !== undefined ? { staged } : {}),
        ...(options.shuffle !== undefined ? { shuffle: options.shuffle } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.worker !== undefined ? { worker: options.worker } : {})
      })
      opened.push({ layer, source })
      return source
    }
  })
  for (const [what, given] of [["cursors", options.cursors], ["staged partitions", options.staged]] as const) {
    const unknown = Object.keys(given ?? {}).filter((l) => !opened.some((s) => s.layer === l))
    if (unknown.length > 0) {
      await base.close()
      throw new Error(`${what} given for ${unknown.map((l) => `"${l}"`).join(", ")}, which are not Data layers of this net (have: ${opened.map((s) => `"${s.layer}"`).join(", ") || "none"})`)
    }
  }
  return {
    ...base,
    partitionSources: opened,
    cursors: () => Object.fromEntries(opened.map(({ layer, source }) => [layer, source.cursor()]))
  }
}
