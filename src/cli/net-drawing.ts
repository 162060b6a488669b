/**
 * A Caffe net as an SVG graph, the picture Caffe's python/draw_net.py draws: layers as boxes (type and
 * name, with the main parameters), blobs as octagons, edges bottom → layer → top. In-place layers (top
 * = bottom, e.g. ReLU) get a new version of the blob, so the graph stays acyclic. Laid out in ranks by
 * longest path from the inputs, left to right (`LR`, Caffe's default) or top to bottom (`TB`).
 */
import type { LayerParameter, NetParameter } from "@deepspark/caffe"

export type RankDir = "LR" | "TB"

interface Node {
  readonly id: number
  readonly kind: "layer" | "blob"
  readonly lines: ReadonlyArray<string>
  readonly color: string
  rank: number
  order: number
  x: number
  y: number
  w: number
  h: number
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** Colours of draw_net.py's layer styles (convolution, pooling, inner product, everything else). */
const layerColor = (type: string) =>
  /Convolution|Deconvolution/.test(type) ? "#ff5050" : /Pooling/.test(type) ? "#ff9900" : /InnerProduct/.test(type) ? "#cc33cc" : "#6495ed"

/** The line under the layer's name with its main parameters, as draw_net.py writes them. */
const layerDetail = (l: LayerParameter): string | undefined => {
  const c = l.convolution_param
  if (c) {
    const k = c.kernel_size?.[0] ?? c.kernel_h ?? 1
    const s = c.stride?.[0] ?? c.stride_h ?? 1
    const p = c.pad?.[0] ?? c.pad_h ?? 0
    return `kernel size: ${k}, stride: ${s}, pad: ${p}, outputs: ${c.num_output ?? 0}`
  }
  const p = l.pooling_param
  if (p) return `${p.pool ?? "MAX"} pool, kernel size: ${p.kernel_size ?? p.kernel_h ?? 0}, stride: ${p.stride ?? 1}`
  const ip = l.inner_product_param
  if (ip) return `outputs: ${ip.num_output ?? 0}`
  return undefined
}

const charWidth = 6.2

export const drawNetSvg = (net: NetParameter, options: { readonly rankdir?: RankDir } = {}): string => {
  const rankdir = options.rankdir ?? "LR"
  const nodes: Node[] = []
  const edges: Array<[number, number]> = []
  const node = (kind: Node["kind"], lines: string[], color: string): Node => {
    const w = Math.max(...lines.map((l) => l.length)) * charWidth + 24
    const n: Node = { id: nodes.length, kind, lines, color, rank: 0, order: nodes.length, x: 0, y: 0, w, h: lines.length * 15 + 14 }
    nodes.push(n)
    return n
  }
  // The latest node of each blob name (a top written in place becomes a new version).
  const blobs = new Map<string, Node>()
  const blob = (name: string) => blobs.get(name) ?? (blobs.set(name, node("blob", [name], "#e0e0e0")), blobs.get(name)!)
  const layers = net.layer ?? []
  if (layers.length === 0) throw new Error(`net "${net.name ?? ""}" has no layers (V2 'layer' entries) to draw`)
  for (const l of layers) {
    const type = l.type ?? "?"
    const detail = layerDetail(l)
    const n = node("layer", [`${l.name ?? "?"} (${type})`, ...(detail ? [detail] : [])], layerColor(type))
    for (const b of l.bottom ?? []) edges.push([blob(b).id, n.id])
    for (const t of l.top ?? []) {
      const out = node("blob", [t], "#e0e0e0")
      blobs.set(t, out)
      edges.push([n.id, out.id])
    }
  }
  // Ranks: longest path from a source (nodes are created in topological order).
  for (const [from, to] of edges) nodes[to]!.rank = Math.max(nodes[to]!.rank, nodes[from]!.rank + 1)
  const ranks: Node[][] = []
  for (const n of nodes) (ranks[n.rank] ??= []).push(n)
  // Order within a rank: by the mean position of the predecessors (one barycentre pass keeps edges short).
  const preds = new Map<number, number[]>()
  for (const [from, to] of edges) preds.set(to, [...(preds.get(to) ?? []), from])
  ranks.forEach((rank, r) => {
    if (r > 0) {
      const key = (n: Node) => {
        const p = preds.get(n.id) ?? []
        return p.length ? p.reduce((s, id) => s + nodes[id]!.order, 0) / p.length : n.order
      }
      rank.sort((a, b) => key(a) - key(b) || a.id - b.id)
    }
    rank.forEach((n, i) => (n.order = i))
  })
  const gapRank = 40
  const gapCross = 18
  const margin = 20
  // Along the rank axis each rank takes its widest (LR) / tallest (TB) node; across, nodes stack.
  let along = margin
  let crossMax = 0
  for (const rank of ranks) {
    const size = Math.max(...rank.map((n) => (rankdir === "LR" ? n.w : n.h)))
    let cross = margin
    for (const n of rank) {
      if (rankdir === "LR") {
        n.x = along + (size - n.w) / 2
        n.y = cross
        cross += n.h + gapCross
      } else {
        n.y = along + (size - n.h) / 2
        n.x = cross
        cross += n.w + gapCross
      }
    }
    crossMax = Math.max(crossMax, cross)
    along += size + gapRank
  }
  // Centre each rank across the drawing.
  for (const rank of ranks) {
    const last = rank[rank.length - 1]!
    const extent = rankdir === "LR" ? last.y + last.h - margin : last.x + last.w - margin
    const shift = (crossMax - gapCross - margin - extent) / 2
    for (const n of rank) if (rankdir === "LR") n.y += shift
    else n.x += shift
  }
  const width = Math.ceil(rankdir === "LR" ? along - gapRank + margin : crossMax - gapCross + margin)
  const height = Math.ceil(rankdir === "LR" ? crossMax - gapCross + margin : along - gapRank + margin)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 24}" viewBox="0 0 ${width} ${height + 24}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(net.name ?? "net")}</title>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${margin}" y="${height + 16}" font-size="13">${esc(net.name ?? "")}</text>`
  ]
  for (const [from, to] of edges) {
    const a = nodes[from]!
    const b = nodes[to]!
    const [x1, y1, x2, y2] =
      rankdir === "LR" ? [a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2] : [a.x + a.w / 2, a.y + a.h, b.x + b.w / 2, b.y]
    const [c1, c2] = rankdir === "LR" ? [`${(x1 + x2) / 2},${y1}`, `${(x1 + x2) / 2},${y2}`] : [`${x1},${(y1 + y2) / 2}`, `${x2},${(y1 + y2) / 2}`]
    out.push(`<path class="edge" d="M${x1},${y1} C${c1} ${c2} ${x2},${y2}" fill="none" stroke="#555" marker-end="url(#arrow)"/>`)
  }
  for (const n of nodes) {
    if (n.kind === "layer") out.push(`<rect class="layer" x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="3" fill="${n.color}" stroke="#333"/>`)
    else {
      // An octagon, draw_net.py's blob shape.
      const c = 6
      const { x, y, w, h } = n
      const pts = [[x + c, y], [x + w - c, y], [x + w, y + c], [x + w, y + h - c], [x + w - c, y + h], [x + c, y + h], [x, y + h - c], [x, y + c]]
      out.push(`<polygon class="blob" points="${pts.map((p) => p.join(",")).join(" ")}" fill="${n.color}" stroke="#333"/>`)
    }
    n.lines.forEach((line, i) =>
      out.push(`<text x="${n.x + n.w / 2}" y="${n.y + 18 + i * 15}" text-anchor="middle"${i === 0 && n.kind === "layer" ? ' font-weight="bold"' : ""}>${esc(line)}</text>`)
    )
  }
  out.push("</svg>")
  return out.join("\n") + "\n"
}
