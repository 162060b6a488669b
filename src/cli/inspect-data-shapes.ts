import type { DataShapeProvider, LayerParameter, NetParameter } from "@deepspark/caffe"

/**
 * Data-layer shapes from the data itself, as Caffe's DataLayerSetUp gets them: open each Data layer's
 * database, read its first record, apply the layer's transform (crop) and report [batch, C, H', W']
 * (+ the label [batch]). A database that is missing or unreadable leaves that layer's shapes unknown —
 * inspect still prints the graph. Keyed by layer name and source, so TRAIN and TEST layers differ.
 */
export const readDataShapes = async (nets: ReadonlyArray<NetParameter>, cwd: string): Promise<DataShapeProvider | undefined> => {
  const layers = nets.flatMap((n) => n.layer ?? []).filter((l) => l.type === "Data" && l.data_param?.source !== undefined)
  if (layers.length === 0) return undefined
  const { openBatchSource, SeededRng } = await import("@deepspark/data")
  const found = new Map<string, ReadonlyArray<ReadonlyArray<number>>>()
  const keyOf = (l: LayerParameter) => `${l.name ?? ""}\u0000${l.data_param?.source ?? ""}`
  for (const layer of layers) {
    if (found.has(keyOf(layer))) continue
    try {
      const source = await openBatchSource({
        dataParam: layer.data_param!,
        ...(layer.transform_param !== undefined ? { transformParam: layer.transform_param } : {}),
        phase: (layer.include?.[0]?.phase as "TRAIN" | "TEST" | undefined) ?? "TEST",
        rng: new SeededRng(1),
        baseDir: cwd,
        layer: layer.name ?? "Data"
      })
      try {
        found.set(keyOf(layer), [source.shape.data, source.shape.label])
      } finally {
        await source.close()
      }
    } catch {
      // No database here (or not readable): the shapes stay unknown.
    }
  }
  if (found.size === 0) return undefined
  return (layer) => {
    const shapes = found.get(keyOf(layer))
    if (!shapes) return undefined
    return (layer.top ?? []).map((_, i) => (shapes[i] ? [...shapes[i]!] : null))
  }
}

/** The first provider that knows a layer wins (explicit --data-shape before the databases). */
export const firstProvider =
  (...providers: ReadonlyArray<DataShapeProvider | undefined>): DataShapeProvider | undefined =>
    providers.every((p) => p === undefined)
      ? undefined
      : (layer, phase) => {
          for (const p of providers) {
            const r = p?.(layer, phase)
            if (r !== undefined) return r
          }
          return undefined
        }
