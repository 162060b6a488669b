import * as fs from "node:fs"
import * as os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot } from "../support/mnist-workspace.js"
import { createNetwork, multiHostSkipReason, type HostProcess, type Network } from "../support/netns/network.js"
import { startPostgres, type PostgresServer } from "../support/netns/postgres-host.js"
import { lastExchangeIteration, outputFrom, waitUntil } from "../support/netns/watch-output.js"
import { tinyMnist, type TinyMnist } from "../support/tiny-mnist.js"

/**
 * The long variant of test/multi-host.test.ts (DEEPSPARK_LONG=1): three trainers on three runner hosts
 * train the tiny LeNet on 8,000 MNIST images for 1,500 iterations each, through two faults in one run —
 * the host of worker0 cut off for 30 s, then the runner process hosting worker1 killed with kill -9 — and
 * the center must still count every exchange once and reach 90 % on 1,000 test images.
 */
const skip = multiHostSkipReason()
if (skip) console.log(`multi-host tests skipped: ${skip}`)

const SECRET = "multi-host-long-secret"
const RUNNERS = ["r1", "r2", "r3"] as const
const deepspark = path.join(repoRoot, "bin/deepspark.mjs")
const env = { ...process.env, DEEPSPARK_CLUSTER_SECRET: SECRET }

let net: Network
let pg: PostgresServer
let mnist: TinyMnist
const runners = new Map<string, HostProcess>()
const processes: HostProcess[] = []

const startRunner = (host: string) => {
  const h = net.hosts[host]!
  const p = h.spawn(process.execPath, [deepspark, "runner", "--cluster-db", pg.url, "--listen", `${h.ip}:34431`, "--lock-expiration", "5", "--root", fs.realpathSync(os.tmpdir())], { env })
  runners.set(host, p)
  processes.push(p)
  return p
}
const outputs = () => [...runners].map(([host, p]) => `--- runner ${host} ---\n${p.out()}`).join("\n")

describe.skipIf(skip !== undefined)("several hosts, a longer run through two faults", () => {
  beforeAll(async () => {
    net = createNetwork(["db", "driver", ...RUNNERS])
    pg = startPostgres(net.hosts.db!)
    mnist = await tinyMnist({ trainRecords: 8000, testRecords: 1000 })
    for (const host of RUNNERS) startRunner(host)
    await Promise.all([...runners.values()].map((r) => r.waitFor(/joined the cluster/, 120_000)))
  }, 180_000)
  afterAll(() => {
    for (const p of processes) if (p.alive()) p.child.kill("SIGKILL")
    pg?.stop()
    net?.destroy()
    if (mnist) fs.rmSync(mnist.dir, { recursive: true, force: true })
  })

  it("a runner host cut off for 30 s, then another runner killed: every exchange counted once, 90 % reached", async () => {
    const solver = mnist.solver("long_solver.prototxt", { max_iter: 1500 })
    const since = new Map<string, () => string>(RUNNERS.map((h) => [h, outputFrom(runners.get(h)!)]))
    const driverHost = net.hosts.driver!
    const driver = driverHost.spawn(
      process.execPath,
      [
        deepspark, "train", "-solver", solver, "--workers", "3", "--period", "10", "--cluster-db", pg.url, "--lock-expiration", "5",
        "--center-listen", `${driverHost.ip}:7077`, "--serve-data", `${driverHost.ip}:7078`, "--stage-to", "staged"
      ],
      { cwd: mnist.dir, env }
    )
    processes.push(driver)
    await waitUntil("worker0 at iteration 300", 300_000, () => lastExchangeIteration(driver.out(), "worker0") >= 300, () => driver.out())
    const cut = RUNNERS.find((h) => /training worker0 /.test(since.get(h)!()))!
    net.cut(cut)
    await new Promise((r) => setTimeout(r, 30_000))
    net.restore(cut)
    const before = lastExchangeIteration(driver.out(), "worker1")
    await waitUntil("worker1 200 iterations further", 300_000, () => lastExchangeIteration(driver.out(), "worker1") >= before + 200, () => driver.out())
    const victim = [...RUNNERS].reverse().find((h) => new RegExp(`training worker1 `).test(since.get(h)!()) && runners.get(h)!.alive())!
    runners.get(victim)!.child.kill("SIGKILL")
    expect(await driver.exit, `${driver.out()}\n${outputs()}`).toBe(0)
    expect(driver.out()).toMatch(/center: 450 exchanges/)
    const accuracy = Number(/test accuracy ([\d.]+)/.exec(driver.out())?.[1])
    expect(accuracy, driver.out()).toBeGreaterThanOrEqual(0.9)
    console.log(`long multi-host run: ${/center: .*/.exec(driver.out())?.[0]}; ${cut} cut off for 30 s, runner ${victim} killed`)
  }, 900_000)
})
