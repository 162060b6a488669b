import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { openEventLog, readEventLog } from "./event-log.js"
import { progressPanels, renderSvg } from "./svg-plot.js"

describe("observability", () => {
  it("writes JSON lines and reads them back, tolerating a torn last line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-events-"))
    const file = path.join(dir, "events.jsonl")
    let now = 1000
    const log = openEventLog(file, () => now)
    log.write("exchange", { worker: "w0", loss: 2.3 })
    now = 3500
    log.write("test", { exchanges: 4, accuracy: 0.91, loss: NaN })
    log.close()
    fs.appendFileSync(file, '{"t": 9, "type": "tor')
    const events = readEventLog(file)
    expect(events).toEqual([
      { t: 0, type: "exchange", worker: "w0", loss: 2.3 },
      { t: 2.5, type: "test", exchanges: 4, accuracy: 0.91, loss: "NaN" }
    ])
  })

  it("renders a two-panel SVG with a series per worker and the center's accuracy", () => {
    const svg = renderSvg(
      progressPanels([
        { t: 1, type: "exchange", worker: "w0", loss: 2 },
        { t: 2, type: "exchange", worker: "w0", loss: 1 },
        { t: 2, type: "exchange", worker: "w1", loss: 1.5 },
        { t: 3, type: "test", accuracy: 0.5, loss: 1.2 },
        { t: 5, type: "test", accuracy: 0.9, loss: 0.4 }
      ]),
      { title: "LeNet <demo>" }
    )
    expect(svg.startsWith("<svg")).toBe(true)
    expect(svg).toContain("LeNet &lt;demo&gt;")
    expect(svg.match(/<polyline/g)?.length).toBe(3) // w0, accuracy, test loss (w1 has one point)
    expect(svg).toContain(">w1<")
    expect(svg).toContain("test accuracy")
  })
})
