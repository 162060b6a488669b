import type { NetGraph, Shape } from "@deepspark/caffe"

/** The `--json` object of a net (see deepspark inspect --help). */
export interface NetJson {
  readonly name: string
  readonly phase: string
  readonly level: number
  readonly stages: ReadonlyArray<string>
  readonly layers: ReadonlyArray<{ name: string; type: string; bottom: ReadonlyArray<string>; top: ReadonlyArray<string> }>
  readonly blobs: Record<string, Shape | null>
  readonly params: Record<string, ReadonlyArray<Shape | null>>
  readonly paramCount: number | null
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
}

/** Layers with parameters, keyed by name; a repeated layer name gets `#2`, `#3`, … (names need not be unique). */
const paramsByLayer = (graph: NetGraph): Record<string, ReadonlyArray<Shape | null>> => {
  const out: Record<string, ReadonlyArray<Shape | null>> = {}
  for (const l of graph.layers) {
    if (l.paramShapes.length === 0) continue
    let key = l.name
    for (let k = 2; key in out; k++) key = `${l.name}#${k}`
    out[key] = l.paramShapes
  }
  return out
}

export const netJson = (graph: NetGraph): NetJson => ({
  name: graph.name,
  phase: graph.state.phase,
  level: graph.state.level,
  stages: graph.state.stage,
  layers: graph.layers.map((l) => ({ name: l.name, type: l.type, bottom: l.bottom, top: l.top })),
  blobs: Object.fromEntries(graph.blobs),
  params: paramsByLayer(graph),
  paramCount: graph.paramCount,
  inputs: graph.inputs,
  outputs: graph.outputs
})

/** Caffe's log style: "64 20 24 24 (737280)"; a 0-axis blob is "(1)"; unknown "?". */
export const formatShape = (shape: Shape | null): string => {
  if (shape === null) return "?"
  const n = shape.reduce((a, b) => a * b, 1)
  return shape.length === 0 ? "(1)" : `${shape.join(" ")} (${n})`
}

const formatParams = (shapes: ReadonlyArray<Shape | null>): string =>
  shapes.map((s) => (s === null ? "?" : s.length === 0 ? "[]" : s.join("x"))).join(", ")

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string[] => {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ").trimEnd())
}

/** The human-readable listing: one row per top (layers without tops get one row). */
export const netTable = (graph: NetGraph): string[] => {
  const stages = graph.state.stage.length > 0 ? graph.state.stage.join(",") : "-"
  const header = `Net "${graph.name}"  phase ${graph.state.phase}  level ${graph.state.level}  stages ${stages}`
  const rows: string[][] = [["#", "layer", "type", "bottom", "top", "top shape", "params"]]
  for (const l of graph.layers) {
    const tops = l.top.length > 0 ? l.top : [""]
    tops.forEach((top, j) => {
      const first = j === 0
      const loss = l.lossWeights[j] ? `  (loss ×${l.lossWeights[j]})` : ""
      const place = l.inPlace[j] ? " (in place)" : ""
      rows.push([
        first ? String(l.index) : "",
        first ? l.name : "",
        first ? l.type + (l.isSplit ? "*" : "") : "",
        first ? l.bottom.join(", ") : "",
        top + place,
        top === "" ? "" : formatShape(l.topShapes[j] ?? null) + loss,
        first ? formatParams(l.paramShapes) : ""
      ])
    })
  }
  const python = graph.unsupported.map((u) => `'${u.layer}'`).join(", ")
  const count =
    graph.paramCount !== null
      ? graph.paramCount.toLocaleString("en-US")
      : graph.unsupported.length > 0
        ? `unknown (${graph.unsupported[0]!.type} layer ${python} may hold parameter blobs)`
        : "unknown (some shapes depend on the data)"
  // Unknown shapes come from data sources (layers without bottoms) or from what unsupported layers compute.
  const unknownFromData = graph.layers.some((l) => !l.unsupported && l.bottom.length === 0 && l.topShapes.some((s) => s === null))
  return [
    header,
    `inputs: ${graph.inputs.join(", ") || "-"}   outputs: ${graph.outputs.join(", ") || "-"}`,
    "",
    ...table(rows),
    "",
    ...[
      graph.layers.some((l) => l.isSplit) ? "* inserted by Caffe's split rule." : "",
      [...graph.blobs.values()].some((s) => s === null)
        ? graph.unsupported.length === 0
          ? "? = unknown (read from the data source; see --data-shape)."
          : `? = unknown (computed by ${python}${unknownFromData ? ", or read from the data source: see --data-shape" : ""}).`
        : ""
    ].filter((s) => s !== ""),
    `learnable parameters: ${count} in ${graph.learnable.length} blobs`
  ]
}
