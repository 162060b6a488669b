/**
 * `--dashboard [HOST:]PORT` on the commands that train: serve the run's live page, its server-sent
 * events and `/metrics` (see ../observe/dashboard). Loopback (127.0.0.1) unless a host is given; port 0
 * picks a free port (the log says which).
 */
import type { OptionSpec } from "./argv.js"
import { parseAddress } from "./network-flags.js"

export const dashboardOption: OptionSpec = {
  name: "dashboard",
  type: "string",
  value: "[HOST:]PORT",
  description: "serve a live dashboard of the run (/ page, /events, /metrics for Prometheus); loopback unless HOST is given"
}

export const dashboardAddress = (value: string): { host: string; port: number } =>
  parseAddress(/^\d+$/.test(value.trim()) ? `127.0.0.1:${value.trim()}` : value, "dashboard")

/** The log line that says where the dashboard is (tests and users read the URL from it). */
export const dashboardLine = (url: string) => `Dashboard at ${url} (live page; ${url}metrics for Prometheus)`
