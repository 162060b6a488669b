/**
 * `--dashboard [HOST:]PORT` on the commands that train: serve the run's live page, its server-sent
 * events and `/metrics` (see ../observe/dashboard). Loopback (127.0.0.1) unless a host is given; any
 * other host needs a token (`--dashboard-token T` or DEEPSPARK_DASHBOARD_TOKEN), which every request
 * must then carry. Port 0 picks a free port (the log says which).
 */
import type { OptionSpec } from "./argv.js"
import { CliUsageError } from "./command.js"
import { isLoopbackHost, parseAddress } from "./network-flags.js"

export const dashboardOption: OptionSpec = {
  name: "dashboard",
  type: "string",
  value: "[HOST:]PORT",
  description: "serve a live dashboard of the run (/ page, /events, /metrics for Prometheus); loopback unless HOST is given (then with a token)"
}

export const dashboardTokenOption: OptionSpec = {
  name: "dashboard-token",
  type: "string",
  value: "T",
  description: "the dashboard's token (default $DEEPSPARK_DASHBOARD_TOKEN; required off loopback): open /?token=T, scrape with Authorization: Bearer T"
}

export const dashboardAddress = (value: string): { host: string; port: number } =>
  parseAddress(/^\d+$/.test(value.trim()) ? `127.0.0.1:${value.trim()}` : value, "dashboard")

/** Where and how the dashboard serves, from `--dashboard` and its token; refuses a non-loopback host without a token. */
export const dashboardSettings = (
  value: string,
  tokenFlag: string | undefined,
  env: NodeJS.ProcessEnv
): { host: string; port: number; token?: string } => {
  const address = dashboardAddress(value)
  const token = tokenFlag ?? env.DEEPSPARK_DASHBOARD_TOKEN
  if (token === "") throw new CliUsageError("--dashboard-token is empty: give a secret")
  if (token === undefined && !isLoopbackHost(address.host))
    throw new CliUsageError(`refusing to serve the dashboard on ${address.host} without a token: give --dashboard-token T or set DEEPSPARK_DASHBOARD_TOKEN`)
  return token === undefined ? address : { ...address, token }
}

/** The log line that says where the dashboard is (tests and users read the URL from it; the token is not logged). */
export const dashboardLine = (url: string, withToken = false) =>
  `Dashboard at ${url} (live page; ${url}metrics for Prometheus${withToken ? "; with its token: ?token=T or Authorization: Bearer T" : ""})`
