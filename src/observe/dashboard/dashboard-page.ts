/**
 * The dashboard's page: one self-contained HTML document (no CDN, no external file: it works offline)
 * whose script reads the run's events from `/events` (server-sent events) and draws its charts as
 * hand-written SVG — per-worker loss, iterations/s, exchange latency, staleness and ‖x_i − x̃‖, the
 * center's test accuracy and loss over time — and a table of the workers' states. Each chart's <svg>
 * carries `data-points` (points drawn), which tests read.
 */
export const dashboardPage = (title: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} · deepspark</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  #status { color: #555; margin-bottom: 12px; font-size: 13px; }
  #charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
  .card { background: white; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
  .card h2 { font-size: 13px; margin: 0 0 4px; font-weight: 600; }
  svg { width: 100%; height: 200px; display: block; }
  table { border-collapse: collapse; font-size: 13px; margin-top: 12px; background: white; }
  td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
  th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
  .legend { font-size: 11px; color: #444; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div id="status">connecting…</div>
<div id="charts"></div>
<table id="workers"><thead><tr><th>worker</th><th>state</th><th>iteration</th><th>loss</th><th>iter/s</th><th>exchange ms</th><th>staleness</th><th>‖x_i − x̃‖</th><th>restarts</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const charts = {};
const chartSpecs = [
  ["loss", "Training loss per worker"],
  ["test", "Center on the test net (accuracy, loss)"],
  ["speed", "Iterations per second per worker"],
  ["latency", "Exchange latency per worker (ms)"],
  ["staleness", "Staleness per worker (center updates)"],
  ["distance", "‖x_i − x̃‖ per worker"]
];
for (const [id, title] of chartSpecs) {
  const card = document.createElement("div");
  card.className = "card";
  card.innerHTML = '<h2>' + title + '</h2><svg id="chart-' + id + '" class="chart" data-points="0" viewBox="0 0 420 200" preserveAspectRatio="none"></svg><div class="legend" id="legend-' + id + '"></div>';
  document.getElementById("charts").appendChild(card);
  charts[id] = { series: new Map(), svg: card.querySelector("svg"), legend: card.querySelector(".legend") };
}
const add = (chart, name, t, y) => {
  if (typeof y !== "number" || !isFinite(y)) return;
  const c = charts[chart];
  if (!c.series.has(name)) c.series.set(name, []);
  c.series.get(name).push([t, y]);
  dirty = true;
};
const workers = new Map();
const worker = (id) => {
  if (!workers.has(id)) workers.set(id, { state: "joined", iteration: 0, loss: NaN, speed: NaN, latency: NaN, staleness: NaN, distance: NaN, restarts: 0 });
  return workers.get(id);
};
let dirty = false;
let events = 0;
const fmt = (v, d) => (typeof v === "number" && isFinite(v) ? v.toFixed(d) : "–");
const draw = () => {
  if (!dirty) return;
  dirty = false;
  for (const id in charts) {
    const c = charts[id];
    const all = [...c.series.values()].flat();
    let points = 0;
    const parts = ['<rect x="0" y="0" width="420" height="200" fill="white" stroke="#ccc"/>'];
    if (all.length > 0) {
      const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
      const x0 = Math.min(...xs), x1 = Math.max(x0 + 1e-9, ...xs);
      let y0 = Math.min(...ys), y1 = Math.max(...ys);
      if (id === "test") { y0 = 0; y1 = Math.max(1, y1); }
      if (!(y1 > y0)) y1 = y0 + 1;
      const sx = (x) => 36 + ((x - x0) / (x1 - x0)) * 376, sy = (y) => 190 - ((y - y0) / (y1 - y0)) * 180;
      parts.push('<text x="2" y="14" font-size="10">' + y1.toPrecision(3) + '</text><text x="2" y="190" font-size="10">' + y0.toPrecision(3) + '</text>');
      parts.push('<text x="412" y="198" font-size="10" text-anchor="end">' + x1.toFixed(0) + ' s</text>');
      let i = 0;
      for (const [name, pts] of c.series) {
        const color = palette[i++ % palette.length];
        points += pts.length;
        const coords = pts.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
        parts.push(pts.length > 1 ? '<polyline fill="none" stroke="' + color + '" stroke-width="1.5" points="' + coords + '" data-series="' + name + '"/>'
          : '<circle r="3" fill="' + color + '" cx="' + sx(pts[0][0]) + '" cy="' + sy(pts[0][1]) + '" data-series="' + name + '"/>');
      }
      c.legend.innerHTML = [...c.series.keys()].map((n, k) => '<span style="color:' + palette[k % palette.length] + '">■</span> ' + n).join(" &nbsp; ");
    }
    c.svg.innerHTML = parts.join("");
    c.svg.setAttribute("data-points", String(points));
  }
  const rows = [...workers.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, w]) =>
    "<tr><td>" + id + "</td><td>" + w.state + "</td><td>" + w.iteration + "</td><td>" + fmt(w.loss, 4) + "</td><td>" + fmt(w.speed, 1) +
    "</td><td>" + fmt(w.latency, 0) + "</td><td>" + fmt(w.staleness, 0) + "</td><td>" + fmt(w.distance, 4) + "</td><td>" + w.restarts + "</td></tr>");
  document.querySelector("#workers tbody").innerHTML = rows.join("");
};
setInterval(draw, 250);
const status = document.getElementById("status");
// The page's own query (?token=…) goes with it: the event stream asks for the same token.
const source = new EventSource("events" + location.search);
source.onopen = () => { status.textContent = "live"; };
source.onerror = () => { if (status.dataset.done !== "true") status.textContent = "disconnected (retrying)…"; };
source.onmessage = (message) => {
  const e = JSON.parse(message.data);
  events++;
  switch (e._tag) {
    case "RunStarted": status.textContent = "live: " + e.solver + ", " + e.workers + " worker(s), " + e.rule; break;
    case "ExchangeApplied": {
      const w = worker(e.worker);
      Object.assign(w, { state: "training", iteration: e.iteration, loss: e.loss, speed: e.itersPerSecond, latency: e.latencyMs, staleness: e.staleness, distance: e.distance });
      add("loss", e.worker, e.t, e.loss); add("speed", e.worker, e.t, e.itersPerSecond); add("latency", e.worker, e.t, e.latencyMs);
      add("staleness", e.worker, e.t, e.staleness); add("distance", e.worker, e.t, e.distance);
      break;
    }
    case "TrainLoss":
      Object.assign(worker(e.worker), { state: "training", iteration: e.iteration, loss: e.loss, speed: e.itersPerSecond });
      add("loss", e.worker, e.t, e.loss); add("speed", e.worker, e.t, e.itersPerSecond);
      break;
    case "TestResult": add("test", "accuracy", e.t, e.accuracy); add("test", "loss", e.t, e.loss); break;
    case "WorkerJoined": worker(e.worker).state = "joined"; dirty = true; break;
    case "WorkerRestarted": { const w = worker(e.worker); w.state = "restarted"; w.restarts++; dirty = true; break; }
    case "WorkerLost": worker(e.worker).state = "lost: " + e.reason; dirty = true; break;
    case "WorkerStopped": worker(e.worker).state = "stopped"; dirty = true; break;
    case "RunDone":
      status.dataset.done = "true";
      status.textContent = "done: " + e.exchanges + " exchanges in " + e.seconds.toFixed(1) + " s" + (typeof e.accuracy === "number" ? ", test accuracy " + e.accuracy.toFixed(4) : "");
      source.close(); dirty = true; break;
  }
  document.body.dataset.events = String(events);
};
</script>
</body>
</html>
`

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
