import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"
import { tinyDummyNet } from "./support/tiny-dummy-net.js"

/**
 * `deepspark train --dashboard`: during a real run (a tiny net, trained until interrupted) the page,
 * its event stream and /metrics are served; headless Chromium loads the page and its charts fill and
 * update live. A screenshot is kept in out/test-dashboard/. Without Debian's chromium the browser part
 * is skipped with one line.
 */
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p))
const outDir = path.join(repoRoot, "out/test-dashboard")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-dashboard-"))
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  fs.rmSync(tmp, { recursive: true, force: true })
})

fs.writeFileSync(
  path.join(tmp, "tiny.prototxt"),
  tinyDummyNet
)
fs.writeFileSync(
  path.join(tmp, "solver.prototxt"),
  `net: "tiny.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 100000000\ndisplay: 100\ntest_iter: 1\ntest_interval: 500\nsnapshot_prefix: "tiny"\nrandom_seed: 1\n`
)

/** Starts the run and resolves with the dashboard's URL once the log names it. */
const startRun = () =>
  new Promise<{ child: ChildProcess; url: string; stderr: () => string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin/deepspark.mjs"), "train", "-solver", "solver.prototxt", "-backend", "reference", "--dashboard", "127.0.0.1:0"], {
      cwd: tmp,
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(child)
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
      const m = /Dashboard at (http:\/\/\S+\/) /.exec(stderr)
      if (m) resolve({ child, url: m[1]!, stderr: () => stderr })
    })
    child.on("exit", (code) => reject(new Error(`train exited (${code}) before serving the dashboard:\n${stderr}`)))
  })

describe("deepspark train --dashboard", () => {
  it("serves a live page, server-sent events and Prometheus /metrics during the run; Chromium draws charts that update", async () => {
    const { child, url, stderr } = await startRun()
    expect(new URL(url).hostname).toBe("127.0.0.1")
    const page = await (await fetch(url)).text()
    expect(page).toContain('new EventSource("events" + location.search)')
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/) // self-contained: no CDN, no external file
    // /metrics fills as the run goes on.
    let metrics = ""
    for (let i = 0; i < 100 && !/deepspark_worker_loss\{worker="solver"\}/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 100))
      metrics = await (await fetch(`${url}metrics`)).text()
    }
    expect(metrics).toMatch(/# TYPE deepspark_worker_loss gauge/)
    expect(metrics).toMatch(/^deepspark_worker_loss\{worker="solver"\} [\d.e+-]+$/m)
    expect(metrics).toMatch(/^deepspark_worker_iteration\{worker="solver"\} \d+$/m)

    if (!chromium) {
      console.log("dashboard browser check skipped: no chromium (apt-get install -y chromium)")
    } else {
      const { chromium: launcher } = await import("playwright-core")
      const browser = await launcher.launch({
        executablePath: chromium,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
      })
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
        const tab = await context.newPage()
        await tab.goto(url)
        const points = (chart: string) => tab.$eval(`#chart-${chart}`, (e) => Number(e.getAttribute("data-points")))
        // Evaluated in the page (a string: this file is compiled without the DOM's types).
        const morePoints = (chart: string, than: number) =>
          tab.waitForFunction(`Number(document.querySelector("#chart-${chart}").getAttribute("data-points")) > ${than}`, undefined, { timeout: 30_000 })
        await morePoints("loss", 0)
        const first = await points("loss")
        await morePoints("loss", first)
        expect(await points("loss")).toBeGreaterThan(first)
        await morePoints("test", 0)
        expect(await tab.$$eval("#chart-loss polyline", (l) => l.length)).toBe(1)
        expect(await points("speed")).toBeGreaterThan(0)
        expect(await tab.textContent("#workers tbody")).toContain("solver")
        expect(await tab.textContent("#status")).toMatch(/^live/)
        fs.mkdirSync(outDir, { recursive: true })
        await tab.screenshot({ path: path.join(outDir, "dashboard.png"), fullPage: true })
        expect(fs.statSync(path.join(outDir, "dashboard.png")).size).toBeGreaterThan(1000)
      } finally {
        await browser.close()
      }
    }
    child.kill("SIGINT")
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", (c) => resolve(c))))
    expect(code).toBe(0)
    expect(stderr()).toContain("Optimization Done.")
  }, 120_000)
})
