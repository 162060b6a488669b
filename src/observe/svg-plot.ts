/**
 * A small dependency-free SVG line chart: training loss per worker and center test accuracy/loss over
 * wall time, the picture a user wants after a run. Two panels sharing the x axis (seconds).
 */
export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<readonly [number, number]>
  readonly color?: string
}

export interface Panel {
  readonly title: string
  readonly yLabel: string
  readonly series: ReadonlyArray<Series>
  /** Fixed y range, e.g. [0, 1] for accuracy. */
  readonly yRange?: readonly [number, number]
}

const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const niceTicks = (lo: number, hi: number, n = 5): number[] => {
  if (!(hi > lo)) return [lo]
  const raw = (hi - lo) / n
  const mag = Math.pow(10, Math.floor(Math.log10(raw)))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(6)))
  return out
}

export const renderSvg = (panels: ReadonlyArray<Panel>, options: { title?: string; width?: number; xLabel?: string } = {}): string => {
  const width = options.width ?? 900
  const panelH = 260
  const margin = { l: 70, r: 160, t: 40, b: 40 }
  const height = margin.t + panels.length * (panelH + margin.b) + 10
  const allX = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0])))
  const x0 = Math.min(0, ...allX)
  const x1 = Math.max(x0 + 1e-9, ...allX)
  const plotW = width - margin.l - margin.r
  const sx = (x: number) => margin.l + ((x - x0) / (x1 - x0)) * plotW
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`
  ]
  if (options.title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`)
  panels.forEach((panel, pi) => {
    const top = margin.t + pi * (panelH + margin.b)
    const ys = panel.series.flatMap((s) => s.points.map((q) => q[1])).filter(Number.isFinite)
    let [y0, y1] = panel.yRange ?? [Math.min(...ys, Infinity), Math.max(...ys, -Infinity)]
    if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1]
    if (y1 <= y0) y1 = y0 + 1
    const sy = (y: number) => top + panelH - ((y - y0) / (y1 - y0)) * panelH
    parts.push(`<rect x="${margin.l}" y="${top}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`)
    parts.push(`<text x="${margin.l}" y="${top - 6}" font-size="13">${esc(panel.title)}</text>`)
    for (const t of niceTicks(y0, y1)) {
      parts.push(`<line x1="${margin.l}" x2="${margin.l + plotW}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`)
      parts.push(`<text x="${margin.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`)
    }
    for (const t of niceTicks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${top + panelH + 16}" text-anchor="middle">${t}</text>`)
    parts.push(`<text x="16" y="${top + panelH / 2}" transform="rotate(-90 16 ${top + panelH / 2})" text-anchor="middle">${esc(panel.yLabel)}</text>`)
    panel.series.forEach((s, si) => {
      const color = s.color ?? palette[si % palette.length]!
      const pts = s.points.filter((q) => Number.isFinite(q[1])).map((q) => `${sx(q[0]).toFixed(1)},${sy(Math.min(y1, Math.max(y0, q[1]))).toFixed(1)}`)
      if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(" ")}"/>`)
      else if (pts.length === 1) {
        const [cx, cy] = pts[0]!.split(",")
        parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`)
      }
      const ly = top + 14 + si * 16
      parts.push(`<line x1="${margin.l + plotW + 12}" x2="${margin.l + plotW + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`)
      parts.push(`<text x="${margin.l + plotW + 36}" y="${ly}">${esc(s.name)}</text>`)
    })
  })
  parts.push(`<text x="${margin.l + plotW / 2}" y="${height - 6}" text-anchor="middle">${esc(options.xLabel ?? "seconds")}</text>`)
  parts.push("</svg>")
  return parts.join("\n")
}

/** Builds the standard progress chart from an event log's entries. */
export const progressPanels = (events: ReadonlyArray<Record<string, unknown> & { t: number; type: string }>): Panel[] => {
  const byWorker = new Map<string, Array<[number, number]>>()
  const acc: Array<[number, number]> = []
  const testLoss: Array<[number, number]> = []
  for (const e of events) {
    if ((e.type === "exchange" || e.type === "train") && typeof e.loss === "number" && Number.isFinite(e.loss)) {
      const w = String(e.worker)
      const list = byWorker.get(w) ?? []
      list.push([e.t, e.loss])
      byWorker.set(w, list)
    }
    if (e.type === "test") {
      if (typeof e.accuracy === "number") acc.push([e.t, e.accuracy])
      if (typeof e.loss === "number") testLoss.push([e.t, e.loss])
    }
  }
  return [
    {
      title: "Training loss per worker (mean since the previous exchange)",
      yLabel: "loss",
      series: [...byWorker.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, points]) => ({ name, points }))
    },
    {
      title: "Center variable on the test net",
      yLabel: "accuracy / loss",
      series: [
        { name: "test accuracy", points: acc, color: "#2ca02c" },
        { name: "test loss", points: testLoss, color: "#d62728" }
      ],
      yRange: [0, Math.max(1, ...testLoss.map((p) => Math.min(p[1], 3)))]
    }
  ]
}
