import { GlogLogger } from "@deepspark/engine"
import { Duration, Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mnistWorkspace, writeSolverVariant } from "../../test/support/mnist-workspace.js"
import { Center, layerCenter } from "../center/center-service.js"
import type { CenterEvent } from "../center/center-state.js"
import { runDistributedTrain } from "../driver/distributed-train.js"
import { WorkerPool } from "../driver/worker-pool.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import type { WorkerAssignment } from "../worker/trainer-spec.js"
import { syntheticCenterJob } from "../simulator/synthetic-center-job.js"
import { ClusterWorkerPool } from "./cluster-worker-pool.js"
import { freePort, killAll, spawnRunner, TEST_CLUSTER_SECRET, type RunnerProcess } from "../../test/support/runner-processes.js"

/**
 * Cluster mode end to end on loopback: two `deepspark runner` processes sharing a libsql (SQLite) file
 * (or the PostgreSQL database named by DEEPSPARK_CLUSTER_DB);
 * the center and a client-only cluster member in this process (ClusterWorkerPool).
 * 1. The driver (runDistributedTrain, unchanged) trains a tiny LeNet run through the cluster.
 * 2. The synthetic softmax problem; mid-run the runner hosting worker w0 is killed with SIGKILL: its
 *    shard locks expire (3 s here), the survivor takes the shard over, the cluster re-sends w0's Train
 *    there, and the new trainer re-registers and resumes from w0's last exchange.
 */
const job = syntheticCenterJob({ problemSeed: 3 })
const runners: RunnerProcess[] = []
let clusterDb = ""
// Every member of the cluster (runners and driver) must agree on the lock expiry.
const LOCK_EXPIRATION_S = 3
const sharding = { shardLockExpiration: Duration.seconds(LOCK_EXPIRATION_S) }

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-cluster-"))
  // DEEPSPARK_CLUSTER_DB=postgres://user@host:port/db runs the same tests on PostgreSQL.
  clusterDb = process.env.DEEPSPARK_CLUSTER_DB ?? `file:${path.join(dir, "cluster.db")}`
  const ports = [await freePort(), await freePort()]
  // Their root: the temporary folder where the LeNet workspace lives (the run's paths must lie under it).
  runners.push(...ports.map((p) => spawnRunner(clusterDb, p, ["--lock-expiration", String(LOCK_EXPIRATION_S), "--root", fs.realpathSync(os.tmpdir())])))
  await Promise.all(runners.map((r) => r.waitFor(/joined the cluster/, 120_000)))
}, 150_000)
afterAll(() => killAll(runners))

describe("ClusterWorkerPool: trainers on @effect/cluster runners", () => {
  it("the driver trains a LeNet run through the cluster, its trainers staging their partitions from it; a final test and snapshot", async () => {
    const dir = await mnistWorkspace()
    const solver = writeSolverVariant(dir, "lenet_solver_cluster.prototxt", { max_iter: 20, test_iter: 3, test_interval: 20, snapshot: 0, snapshot_prefix: "examples/mnist/cluster" })
    const lines: string[] = []
    const result = await Effect.runPromise(
      Effect.scoped(
        runDistributedTrain({
          solverFile: solver,
          cwd: dir,
          workers: 2,
          settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
          log: new GlogLogger((l) => lines.push(l)),
          testLog: (l) => lines.push(l)
        }).pipe(Effect.provide(ClusterWorkerPool({ clusterDb, clusterSecret: TEST_CLUSTER_SECRET, sharding, serveData: { port: 0 }, stageTo: "staged-cluster", log: (l) => lines.push(l) })))
      )
    )
    expect(result.exchanges, lines.join("\n")).toBe(8)
    expect(result.workers.map((w) => w.workerId)).toEqual(["worker0", "worker1"])
    for (const w of result.workers) expect(w.result).toMatchObject({ iterations: 20, exchanges: 4 })
    // Each partition ran on one of the two runners.
    const hosts = runners.map((r) => `127.0.0.1:${r.port}`)
    for (const w of result.workers) expect(hosts).toContain((w.result as { runner: string }).runner)
    expect(lines.some((l) => /Trainers: cluster runners/.test(l))).toBe(true)
    // Each trainer staged its own partition of the training LMDB from the driver's staging server.
    const staged = fs.readdirSync(path.join(dir, "staged-cluster")).sort()
    expect(staged.some((f) => /mnist_train_lmdb-[0-9a-f]{8}\.part-0-of-2$/.test(f)), staged.join(", ")).toBe(true)
    expect(staged.some((f) => /mnist_train_lmdb-[0-9a-f]{8}\.part-1-of-2$/.test(f)), staged.join(", ")).toBe(true)
    expect(result.finalTest?.[0]?.outputs.some((o) => /accuracy/.test(o.name))).toBe(true)
    expect(result.snapshot.caffemodel).toMatch(/cluster_iter_20\.caffemodel$/)
    expect(fs.existsSync(result.snapshot.caffemodel)).toBe(true)
  }, 240_000)

  it("a SIGKILLed runner's trainer moves to the survivor and resumes from its last exchange", async () => {
    const hostOf = (workerId: string) => runners.find((r) => r.out().includes(`training ${workerId} `))
    let killed: RunnerProcess | undefined
    let killedAtClock = 0
    const onEvent = (e: CenterEvent) => {
      // Kill w0's runner (not just its trainer) once w0 has made 3 exchanges (iteration 15).
      if (e.type !== "exchange" || e.workerId !== "w0" || killed !== undefined || e.clock < 15) return
      const host = hostOf("w0")
      if (!host) return
      killed = host
      killedAtClock = e.clock
      host.child.kill("SIGKILL")
    }
    const assignments: WorkerAssignment[] = [0, 1].map((i) => ({
      workerId: `w${i}`,
      token: "tok",
      partition: { index: i, count: 2 },
      period: 5,
      maxIter: 200,
      adaptivePeriod: false,
      spec: { kind: "softmax-problem", problemSeed: 3, seed: 100 + i }
    }))
    const lines: string[] = []
    const t0 = Date.now()
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const center = yield* Center
        const pool = yield* WorkerPool
        const outcomes = yield* pool.run(assignments)
        const view = yield* center.view
        const x = yield* center.params
        return {
          outcomes,
          w0: view.workers.get("w0")!,
          w1: view.workers.get("w1")!,
          exchanges: view.exchanges,
          accuracy: (yield* Effect.promise(() => job.evaluate!(x, 0))).outputs[0]!.value
        }
      }).pipe(
        Effect.scoped,
        Effect.provide(
          ClusterWorkerPool({
            clusterDb,
            clusterSecret: TEST_CLUSTER_SECRET,
            sharding,
            backoffMs: 100,
            heartbeatEveryMs: 1000,
            log: (l) => lines.push(l)
          })
        ),
        Effect.provide(layerCenter({ token: "tok", settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }), workers: 2, initial: job.initialParams() }, { onEvent }))
      )
    )
    const seconds = (Date.now() - t0) / 1000
    const outputs = runners.map((r, i) => `--- runner ${i} (port ${r.port}) ---\n${r.out()}`).join("\n")
    expect(killed, outputs).toBeDefined()
    const survivor = runners.find((r) => r !== killed)!
    // The survivor ran w0 after the kill: registered again and resumed where w0's last exchange left off.
    const resumed = /worker w0: registered as incarnation (\d+), resuming at iteration (\d+)/.exec(survivor.out())
    expect(resumed, outputs).not.toBeNull()
    expect(Number(resumed![1])).toBeGreaterThanOrEqual(2)
    expect(Number(resumed![2])).toBeGreaterThanOrEqual(killedAtClock)
    expect(Number(resumed![2]) % 5).toBe(0)
    expect(result.w0).toMatchObject({ clock: 200, exchanges: 40, stopped: true })
    expect(result.w0.incarnation).toBeGreaterThanOrEqual(2)
    expect(result.w1).toMatchObject({ clock: 200, exchanges: 40, stopped: true })
    expect(result.exchanges).toBe(80)
    expect(result.outcomes.map((o) => o.workerId)).toEqual(["w0", "w1"])
    expect((result.outcomes[0]!.result as { runner: string }).runner).toBe(`127.0.0.1:${survivor.port}`)
    expect(result.accuracy).toBeGreaterThan(0.8)
    console.log(`cluster failover run: ${seconds.toFixed(1)} s; w0 resumed at iteration ${resumed![2]} (killed at ${killedAtClock}) as incarnation ${resumed![1]}`)
  }, 240_000)
})
