import * as fs from "node:fs"
import * as os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"
import { createNetwork, multiHostSkipReason, type HostProcess, type Network } from "./support/netns/network.js"
import { startPostgres, type PostgresServer } from "./support/netns/postgres-host.js"
import { tinyMnist, type TinyMnist } from "./support/tiny-mnist.js"

/**
 * Cluster mode and the center/worker pair across separate hosts: network namespaces joined by veth
 * links to a bridge (test/support/netns), each with its own address — a PostgreSQL host (the cluster's
 * database, a server of the test's own), a driver host (the center) and three runner hosts, all running
 * the built `deepspark` command. Needs root, `ip` and PostgreSQL's server binaries; elsewhere the file
 * is skipped with one line saying why.
 */
const skip = multiHostSkipReason()
if (skip) console.log(`multi-host tests skipped: ${skip}`)

const SECRET = "multi-host-cluster-secret"
const LOCK_EXPIRATION_S = 3
const RUNNERS = ["r1", "r2", "r3"] as const
const deepspark = path.join(repoRoot, "bin/deepspark.mjs")
const env = { ...process.env, DEEPSPARK_CLUSTER_SECRET: SECRET }

let net: Network
let pg: PostgresServer
let mnist: TinyMnist
const runners = new Map<string, HostProcess>()

const startRunner = (host: string) => {
  const h = net.hosts[host]!
  const p = h.spawn(
    process.execPath,
    [deepspark, "runner", "--cluster-db", pg.url, "--listen", `${h.ip}:34431`, "--lock-expiration", String(LOCK_EXPIRATION_S), "--root", fs.realpathSync(os.tmpdir())],
    { env }
  )
  runners.set(host, p)
  return p
}

/** `deepspark train` on the driver host, through the cluster, with the center listening on that host. */
const startDriver = (solver: string, extra: ReadonlyArray<string> = []) => {
  const driver = net.hosts.driver!
  return driver.spawn(
    process.execPath,
    [
      deepspark, "train", "-solver", solver, "--workers", "2",
      "--cluster-db", pg.url, "--lock-expiration", String(LOCK_EXPIRATION_S),
      "--center-listen", `${driver.ip}:7077`, "--serve-data", `${driver.ip}:7078`, "--stage-to", "staged",
      ...extra
    ],
    { cwd: mnist.dir, env }
  )
}

const runnerOutputs = () => [...runners].map(([host, p]) => `--- runner ${host} (${net.hosts[host]!.ip}) ---\n${p.out()}`).join("\n")

describe.skipIf(skip !== undefined)("several hosts (network namespaces): a PostgreSQL host, a driver and three runners", () => {
  beforeAll(async () => {
    net = createNetwork(["db", "driver", ...RUNNERS])
    pg = startPostgres(net.hosts.db!)
    mnist = await tinyMnist({ trainRecords: 2000, testRecords: 500 })
    for (const host of RUNNERS) startRunner(host)
    await Promise.all([...runners.values()].map((r) => r.waitFor(/joined the cluster/, 90_000)))
  }, 150_000)
  afterAll(() => {
    pg?.stop()
    net?.destroy()
  })

  it("a cluster run across the hosts reaches its target accuracy, its trainers staging their partitions over the network", async () => {
    const solver = mnist.solver("cross_host_solver.prototxt", { max_iter: 150 })
    const driver = startDriver(solver)
    expect(await driver.exit, driver.out()).toBe(0)
    const accuracy = Number(/test accuracy ([\d.]+)/.exec(driver.out())?.[1])
    expect(accuracy, driver.out()).toBeGreaterThanOrEqual(0.8)
    // The trainers ran on runner hosts and reached the center at the driver's address.
    const trained = RUNNERS.filter((h) => new RegExp(`training worker\\d .* for the center at ${net.hosts.driver!.ip}:7077`).test(runners.get(h)!.out()))
    expect(trained.length, runnerOutputs()).toBeGreaterThanOrEqual(1)
    console.log(`cross-host run: accuracy ${accuracy}; trainers on ${trained.join(", ")}`)
  }, 120_000)
})
