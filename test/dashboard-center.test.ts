import { spawn } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"
import { defaultEasgdSettings } from "../src/easgd/settings.js"

/** `deepspark center --dashboard`: the parameter server of a multi-process run serves the same page. */
describe("deepspark center --dashboard", () => {
  it("serves the page, the run's events from its start and /metrics while the center waits for workers", async () => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, "bin/deepspark.mjs"), "center", "--synthetic", "1", "--listen", "127.0.0.1:0", "--workers", "2", "--dashboard", "0"],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }
    )
    try {
      let output = ""
      const url = await new Promise<string>((resolve, reject) => {
        const read = (chunk: Buffer) => {
          output += chunk.toString()
          const m = /Dashboard at (http:\/\/127\.0\.0\.1:\d+\/) /.exec(output)
          if (m) resolve(m[1]!)
        }
        child.stdout!.on("data", read)
        child.stderr!.on("data", read)
        child.on("exit", (code) => reject(new Error(`center exited (${code}):\n${output}`)))
      })
      expect(await (await fetch(url)).text()).toContain("center: synthetic")
      // The event stream starts with the run's start (replayed to a late reader).
      const events = await fetch(`${url}events`)
      const reader = events.body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      await reader.cancel()
      expect(first.startsWith("data: {")).toBe(true)
      expect(JSON.parse(first.slice("data: ".length).trim())).toMatchObject({ _tag: "RunStarted", solver: "synthetic", workers: 2, rule: defaultEasgdSettings.rule })
      expect((await fetch(`${url}metrics`)).headers.get("content-type")).toContain("text/plain")
      expect((await fetch(`${url}nowhere`)).status).toBe(404)
    } finally {
      child.kill("SIGINT")
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on("exit", resolve)))
    }
  }, 60_000)
})
