import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Data, Effect, Stream, type Scope } from "effect"
import * as http from "node:http"
import type { RunEventHub } from "../run-event-hub.js"
import { isLoopbackHost } from "../../transport/loopback-host.js"
import { dashboardAuthorizer } from "./dashboard-auth.js"
import { dashboardPage } from "./dashboard-page.js"
import { prometheusText, recordRunMetrics } from "./run-metrics.js"

/**
 * The live dashboard of a run, on @effect/platform's HTTP server: `/` the page (./dashboard-page.ts),
 * `/events` the run's events as server-sent events (from the run's start, so a page opened late draws
 * the whole run), `/metrics` Prometheus text from the run's Effect Metrics. Served until the scope
 * closes; loopback unless asked otherwise, and then only with a token (./dashboard-auth.ts).
 */
export class DashboardError extends Data.TaggedError("DashboardError")<{ readonly address: string; readonly message: string }> {}

export interface DashboardAddress {
  readonly host: string
  readonly port: number
  readonly url: string
}

const encoder = new TextEncoder()

export const serveDashboard = (
  hub: RunEventHub,
  options: {
    readonly host?: string
    readonly port: number
    readonly title?: string
    /** Every request must carry it (`?token=T` or `Authorization: Bearer T`); required off loopback. */
    readonly token?: string
  }
): Effect.Effect<DashboardAddress, DashboardError, Scope.Scope> =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    if (options.token === "")
      return yield* new DashboardError({ address: `${host}:${options.port}`, message: "the dashboard's token is empty: give a secret, or none on loopback" })
    if (options.token === undefined && !isLoopbackHost(host))
      return yield* new DashboardError({
        address: `${host}:${options.port}`,
        message: `refusing to serve the dashboard on ${host} without a token: give --dashboard-token T or set DEEPSPARK_DASHBOARD_TOKEN (or serve it on loopback)`
      })
    const authorized = dashboardAuthorizer(options.token)
    // Metrics follow the run from its start, whether or not anyone scrapes them.
    const metrics = yield* hub.subscribe
    yield* Effect.forkScoped(Stream.runForEach(metrics, recordRunMetrics))
    const page = dashboardPage(options.title ?? "deepspark run")
    const app = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://dashboard")
      // Authenticated before anything else: no page, no subscription, no metrics for a stranger.
      if (!authorized(url, request.headers["authorization"]))
        return HttpServerResponse.text("this dashboard needs its token: ?token=T or Authorization: Bearer T\n", {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="deepspark dashboard"' }
        })
      const pathname = url.pathname
      switch (pathname) {
        case "/":
          return HttpServerResponse.html(page)
        case "/events":
          return HttpServerResponse.stream(
            hub.events.pipe(Stream.map((e) => encoder.encode(`data: ${JSON.stringify(e)}\n\n`))),
            { contentType: "text/event-stream", headers: { "cache-control": "no-cache" } }
          )
        case "/metrics":
          return HttpServerResponse.text(yield* prometheusText, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
        default:
          return HttpServerResponse.text(`no such page: ${pathname}\n`, { status: 404 })
      }
    })
    const server = yield* NodeHttpServer.make(() => http.createServer(), { host, port: options.port }).pipe(
      Effect.mapError((e) => new DashboardError({ address: `${host}:${options.port}`, message: `cannot serve the dashboard on ${host}:${options.port}: ${String(e.cause ?? e)}` }))
    )
    yield* server.serve(app)
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : options.port
    return { host, port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/` }
  })

