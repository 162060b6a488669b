import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { centerCommand } from "../../cli/center.js"
import { runCli } from "../../cli/run-cli.js"
import { solverCommands } from "../../cli/solver-commands.js"
import { RunStarted } from "../run-event.js"
import { makeRunEventHub } from "../run-event-hub.js"
import { serveDashboard } from "./dashboard-server.js"

/** Serves a dashboard over a hub that has one event, runs `use` with its URL, closes it. */
const withDashboard = <A>(options: { host?: string; token?: string }, use: (url: string) => Promise<A>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const hub = yield* makeRunEventHub()
        hub.publish(new RunStarted({ t: 0, solver: "s.prototxt", workers: 2, rule: "async-easgd" }))
        const served = yield* serveDashboard(hub, { port: 0, ...options })
        // Reached through loopback whatever address it listens on.
        return yield* Effect.promise(() => use(`http://127.0.0.1:${served.port}/`))
      })
    )
  )

describe("the dashboard's token", () => {
  it("is required off loopback: serving on 0.0.0.0 without one is a DashboardError", async () => {
    const exit = await Effect.runPromise(
      Effect.scoped(Effect.flatMap(makeRunEventHub(), (hub) => serveDashboard(hub, { host: "0.0.0.0", port: 0 }))).pipe(Effect.flip)
    )
    expect(exit._tag).toBe("DashboardError")
    expect(exit.message).toContain("DEEPSPARK_DASHBOARD_TOKEN")
  })

  it("is checked before anything is served: 401 without it or with a wrong one, the page, events and metrics with it (query or bearer)", async () => {
    await withDashboard({ host: "0.0.0.0", token: "s3cret" }, async (url) => {
      for (const path of ["", "events", "metrics", "nowhere"]) {
        const bare = await fetch(`${url}${path}`)
        expect(bare.status).toBe(401)
        expect(bare.headers.get("www-authenticate")).toContain("Bearer")
        expect((await fetch(`${url}${path}?token=s3cre`)).status).toBe(401)
        expect((await fetch(`${url}${path}`, { headers: { authorization: "Bearer s3cret-and-more" } })).status).toBe(401)
      }
      const page = await fetch(`${url}?token=s3cret`)
      expect(page.status).toBe(200)
      // The page asks for its events with its own query, so the browser's stream carries the token.
      expect(await page.text()).toContain(`new EventSource("events" + location.search)`)
      const events = await fetch(`${url}events?token=s3cret`)
      expect(events.status).toBe(200)
      const reader = events.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toContain(`"RunStarted"`)
      await reader.cancel()
      const metrics = await fetch(`${url}metrics`, { headers: { authorization: "Bearer s3cret" } })
      expect(metrics.status).toBe(200)
      expect(metrics.headers.get("content-type")).toContain("text/plain")
    })
  })

  it("on loopback the dashboard needs none unless one is given", async () => {
    await withDashboard({}, async (url) => expect((await fetch(url)).status).toBe(200))
    await withDashboard({ token: "t" }, async (url) => expect((await fetch(url)).status).toBe(401))
  })

  it("deepspark train / center refuse --dashboard on a non-loopback host without a token, before training", async () => {
    const saved = process.env.DEEPSPARK_DASHBOARD_TOKEN
    delete process.env.DEEPSPARK_DASHBOARD_TOKEN
    try {
      for (const argv of [
        ["train", "-solver", "no-such-solver.prototxt", "--dashboard", "0.0.0.0:0"],
        ["train", "-solver", "no-such-solver.prototxt", "--workers", "2", "--dashboard", "0.0.0.0:0"],
        ["center", "--synthetic", "1", "--dashboard", "0.0.0.0:0"]
      ]) {
        const err: string[] = []
        const io = { stdout: () => {}, stderr: (t: string) => void err.push(t) }
        const code = argv[0] === "center" ? await centerCommand(argv.slice(1), io) : await runCli(argv, io, solverCommands)
        expect(code, argv.join(" ")).not.toBe(0)
        expect(err.join("\n")).toContain("refusing to serve the dashboard on 0.0.0.0 without a token")
      }
    } finally {
      if (saved !== undefined) process.env.DEEPSPARK_DASHBOARD_TOKEN = saved
    }
  })
})
