import { filterNet, resolveNetState, type LayerParameter, type NetParameter, type NetState } from "@deepspark/caffe"
import type { BatchSource, BatchSourceOptions } from "@deepspark/data"
import type { Rng } from "../core/rng.js"
import type { DataBatchSource, DataSourceFactory } from "../layers/data.js"
import { netLabelRules } from "./label-rules.js"

export interface NetDataSources {
  /** Pass as `services.dataSourceFactory` when building the Net. */
  readonly factory: DataSourceFactory
  readonly sources: ReadonlyArray<BatchSource<unknown>>
  close(): Promise<void>
}

/** Opens one Data layer's source; the default is @deepspark/data's openBatchSource (whole database). */
export type BatchSourceOpener = (options: BatchSourceOptions) => Promise<BatchSource<unknown>>

/**
 * Opens the record databases of a net's Data layers (for one NetState) before the Net is built: the
 * data package opens them asynchronously, while layer setup is synchronous. The returned factory hands
 * each Data layer its source, matched by layer name in net order.
 */
export const openNetDataSources = async (
  net: NetParameter,
  options: { readonly state?: NetState; readonly rng: Rng; readonly baseDir?: string; readonly openSource?: BatchSourceOpener }
): Promise<NetDataSources> => {
  // Loaded on demand: the data package brings native database and image modules that a net fed by
  // Input/MemoryData layers never needs.
  const openBatchSource = options.openSource ?? (await import("@deepspark/data")).openBatchSource
  const filtered = filterNet(net, options.state ?? net.state)
  const phase = resolveNetState(filtered.state).phase
  const byName = new Map<string, BatchSource<unknown>[]>()
  const sources: BatchSource<unknown>[] = []
  try {
    for (const layer of filtered.layer ?? []) {
      if (layer.type !== "Data") continue
      const source = await openBatchSource({
        dataParam: layer.data_param ?? {},
        ...(layer.transform_param !== undefined ? { transformParam: layer.transform_param } : {}),
        phase: layer.phase ?? phase,
        rng: options.rng.fork(),
        ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
        layer: layer.name ?? ""
      })
      sources.push(source)
      const list = byName.get(layer.name ?? "") ?? []
      list.push(source)
      byName.set(layer.name ?? "", list)
    }
  } catch (e) {
    await Promise.all(sources.map((s) => s.close()))
    throw e
  }
  // Labels outside the net's classes fail in the Data layer, naming the database and the record.
  const shapes = new Map([...byName].map(([name, list]) => [name, [list[0]!.shape.data, list[0]!.shape.label]] as const))
  for (const [name, rule] of netLabelRules(net, options.state ?? net.state, shapes)) {
    for (const source of byName.get(name) ?? []) source.expectLabels(rule)
  }
  const factory: DataSourceFactory = (param: LayerParameter) => {
    const source = byName.get(param.name ?? "")?.shift()
    if (!source) throw new Error(`Data layer "${param.name ?? ""}": no opened data source (open the net's data sources for the same NetState)`)
    const adapted: DataBatchSource = {
      itemShape: source.shape.data.slice(1),
      nextBatch: (_batch, data, labels) => source.next(data, labels ?? null)
    }
    return adapted
  }
  return { factory, sources, close: async () => void (await Promise.all(sources.map((s) => s.close()))) }
}
