import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import path from "node:path"
import { Headers } from "@effect/platform"
import type { Rpc } from "@effect/rpc"
import { Duration, Effect, Exit, Cause, Option, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ClusterAuth, ClusterAuthFailed, CLUSTER_AUTH_HEADER, clusterSignature, layerClusterAuthServer } from "./cluster-auth.js"
import { buildClusterLayer, layerClientSharding } from "./cluster-sharding.js"
import { freePort, killAll, spawnRunner, TEST_CLUSTER_SECRET, type RunnerProcess } from "../../test/support/runner-processes.js"
import { Train, TrainerEntity, TrainerFailed, type TrainPayload } from "./trainer-entity.js"

/**
 * The runner port is authenticated: a `Train` must carry the cluster secret's signature (ClusterAuth,
 * an @effect/rpc middleware on the Trainer entity), and what it names must lie under the runner's
 * --root. A peer without the secret used to make a runner read /etc/passwd as a solver and connect a
 * trainer to an address of its choosing.
 */
const runners: RunnerProcess[] = []
let clusterDb = ""
let root = ""
const sharding = { shardLockExpiration: Duration.seconds(3) }
/** A TCP port that counts connections: the "center" an attacker would point a trainer at. */
let trap: net.Server
let trapConnections = 0

beforeAll(async () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-cluster-auth-")))
  clusterDb = `file:${path.join(dir, "cluster.db")}`
  root = path.join(dir, "root")
  fs.mkdirSync(root)
  trap = net.createServer((c) => {
    trapConnections++
    c.destroy()
  })
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve))
  runners.push(spawnRunner(clusterDb, await freePort(), ["--lock-expiration", "3", "--root", root]))
  await runners[0]!.waitFor(/joined the cluster/, 120_000)
}, 150_000)
afterAll(() => {
  killAll(runners)
  trap?.close()
})

const payload = (solverPath: string): TrainPayload => ({
  assignment: {
    workerId: "intruder",
    token: "t",
    partition: { index: 0, count: 1 },
    period: 5,
    maxIter: 10,
    adaptivePeriod: false,
    spec: { kind: "caffe", solverPath, workingDirectory: root }
  },
  centerHost: "127.0.0.1",
  centerPort: (trap.address() as net.AddressInfo).port,
  heartbeatEveryMs: 1000,
  callTimeoutMs: 5000,
  maxMessageBytes: 1 << 20,
  maxRestarts: 0,
  backoffMs: 100
})

/** Sends one Train through a client-only cluster member that signs with `secret`; the failure it gets. */
const sendTrain = (secret: string, p: TrainPayload) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const ctx = yield* buildClusterLayer(layerClientSharding({ clusterDb, clusterSecret: secret, sharding }))
      const client = yield* Effect.provide(TrainerEntity.client, ctx)
      const exit = yield* client(`auth-test-${Math.random().toString(36).slice(2)}`).Train(p).pipe(Effect.timeout("20 seconds"), Effect.exit)
      return Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : exit.value
    }).pipe(Effect.scoped)
  )

describe("the runner authenticates every Train", () => {
  it("a Train signed with another secret is refused before anything runs: no file read, no connection", async () => {
    const failure = await sendTrain("not-the-secret", payload("/etc/passwd"))
    expect(failure, runners[0]!.out()).toBeInstanceOf(ClusterAuthFailed)
    expect((failure as ClusterAuthFailed).message).toMatch(/wrong cluster signature/)
    await new Promise((r) => setTimeout(r, 500))
    expect(runners[0]!.out()).not.toMatch(/training intruder|root:x:0/)
    expect(trapConnections).toBe(0)
  }, 120_000)

  it("a signed Train naming a solver outside the runner's --root is refused, naming the path and the root", async () => {
    const failure = await sendTrain(TEST_CLUSTER_SECRET, payload("/etc/passwd"))
    expect(failure).toBeInstanceOf(TrainerFailed)
    expect((failure as TrainerFailed).message).toContain(`the solver "/etc/passwd" is outside this runner's root ${root}`)
    expect(runners[0]!.out()).not.toMatch(/training intruder|root:x:0/)
    expect(trapConnections).toBe(0)
  }, 120_000)
})

describe("ClusterAuth, the middleware itself", () => {
  const check = (headers: Record<string, string>, p: unknown) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const auth = yield* ClusterAuth
        return yield* auth({ clientId: 0, rpc: Train as unknown as Rpc.AnyWithProps, payload: p, headers: Headers.fromInput(headers) }).pipe(Effect.either)
      }).pipe(Effect.provide(layerClusterAuthServer("s3cret") as Layer.Layer<ClusterAuth>))
    )
  it("accepts the signature of this payload under this secret, and nothing else", async () => {
    const p = { b: 1, a: { y: "x", x: [1, 2] } }
    // Key order does not matter: the runner decodes the payload with the schema's order.
    expect((await check({ [CLUSTER_AUTH_HEADER]: clusterSignature("s3cret", "Train", { a: { x: [1, 2], y: "x" }, b: 1 }) }, p))._tag).toBe("Right")
    expect((await check({}, p))._tag).toBe("Left")
    expect((await check({ [CLUSTER_AUTH_HEADER]: clusterSignature("other", "Train", p) }, p))._tag).toBe("Left")
    expect((await check({ [CLUSTER_AUTH_HEADER]: clusterSignature("s3cret", "Train", p) }, { ...p, b: 2 }))._tag).toBe("Left")
  })
})
