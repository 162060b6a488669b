import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Dataset, verifyPartition } from "@deepspark/data"
import { GlogLogger } from "@deepspark/engine"
import { Deferred, Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runDistributedTrain } from "../src/driver/distributed-train.js"
import { TcpWorkerPool } from "../src/driver/worker-pool.js"
import { makeEasgdSettings } from "../src/easgd/settings.js"
import { openCenterJob } from "../src/center/caffe-job.js"
import { buildTrainer } from "../src/worker/build-trainer.js"
import "../src/worker/engine-trainer.js"
import type { CenterJob } from "../src/center/center-job.js"
import { runCenter } from "../src/center/run-center.js"
import { stagedPartitionName } from "../src/staging/train-data.js"
import { stageTrainData } from "../src/staging/worker-staging.js"
import { runTrainerLoop } from "../src/worker/trainer-loop.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "../src/transport/tcp.js"
import { captureOutput, type CapturedProcess } from "./support/captured-process.js"
import { repoRoot } from "./support/mnist-workspace.js"
import { smallMnistFolder, writeTrainOnlyLenetSolver } from "./support/small-mnist.js"

/**
 * Staging end to end on loopback (DeepSpark's prepareLocal): the center serves the training data
 * beside x̃; a `deepspark worker` process runs in a folder where the training LMDB does not exist,
 * stages its partition over TCP and trains on it; the center stops and is restarted from its checkpoint
 * (which holds the cursor the worker reported while reading its staged copy), serving no data this time,
 * and the worker's second start reuses the staged copy and resumes exactly there. Small LMDBs (the first
 * 256 MNIST records), Caffe's LeNet, a few exchanges.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-staging-workers-"))
const centerDir = path.join(root, "center")
const workerDir = path.join(root, "worker")
const TRAIN = "examples/mnist/mnist_train_lmdb"
const spawned: ChildProcess[] = []
let solver = ""
let job: CenterJob
let closeJob: () => Promise<void>

beforeAll(async () => {
  await smallMnistFolder(centerDir, { trainRecords: 256 })
  await smallMnistFolder(workerDir)
  solver = writeTrainOnlyLenetSolver(centerDir, "lenet_solver_staging.prototxt", 40)
  writeTrainOnlyLenetSolver(workerDir, "lenet_solver_staging.prototxt", 40)
  // x̃ in LeNet's layout, as `deepspark center -solver S` makes it (no test net: the center need not test).
  const caffe = await openCenterJob({ solverFile: solver, cwd: centerDir })
  job = {
    description: "LeNet (staging test)",
    paramCount: caffe.paramCount,
    initialParams: () => caffe.initialParams(),
    modelExtension: ".caffemodel",
    writeModel: async (x, file) => caffe.writeModel(x, file),
    readModel: async (file) => caffe.readModel(file)
  }
  closeJob = () => caffe.close()
}, 60_000)

afterAll(async () => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
  await closeJob?.()
  fs.rmSync(root, { recursive: true, force: true })
})

/** `deepspark worker …` started as an operator would, from the worker's folder. */
const worker = (args: ReadonlyArray<string>, onLine?: (line: string) => void): CapturedProcess => {
  const child = spawn(process.execPath, [path.join(repoRoot, "bin/run-ts.mjs"), path.join(repoRoot, "src/cli/remote-main.ts"), "worker", "-solver", solver, "--period", "5", ...args], {
    cwd: workerDir,
    stdio: ["ignore", "pipe", "pipe"]
  })
  spawned.push(child)
  return captureOutput(child, onLine)
}

const resolvable = <A>() => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((r) => (resolve = r))
  return { promise, resolve }
}

/** A center as `deepspark center` runs it (runCenter), optionally serving the training data. */
const center = (options: { serveData: boolean; maxExchanges?: number; resume?: string }) => {
  const lines: string[] = []
  const ports = { center: resolvable<number>(), data: resolvable<number>() }
  const done = runCenter({
    job,
    token: "tok",
    host: "127.0.0.1",
    port: 0,
    settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
    workers: 1,
    checkpointPrefix: path.join(centerDir, "staging_center"),
    ...(options.maxExchanges !== undefined ? { maxExchanges: options.maxExchanges } : {}),
    ...(options.resume !== undefined ? { resume: options.resume } : {}),
    log: (l) => lines.push(l),
    onListening: (a) => ports.center.resolve(a.port),
    ...(options.serveData ? { serveData: { host: "127.0.0.1", port: 0, root: centerDir }, onDataListening: (a: { port: number }) => ports.data.resolve(a.port) } : {})
  })
  return { lines, done, centerPort: ports.center.promise, dataPort: ports.data.promise }
}

/** The plan partition i/N of the center's database follows (what the Data layer would read directly). */
const plan = async (index: number, count: number) => {
  const whole = await Dataset.lmdb(path.join(centerDir, TRAIN))
  const p = whole.partition(count)[index]!
  const out = { partition: p.name, count: p.size, firstKey: p.keyAt(0), lastKey: p.keyAt(p.size - 1) }
  await whole.close()
  return out
}

const stagedAt = (dir: string, index: number, count: number) => path.join(workerDir, dir, stagedPartitionName(TRAIN, { index, count }))

describe("staging partitions from the center to `deepspark worker` processes", () => {
  it("a worker without the training LMDB stages its partition over TCP and trains; restarted from the center's checkpoint it resumes on its staged copy with no server", async () => {
    expect(fs.existsSync(path.join(workerDir, TRAIN))).toBe(false)
    // The center stops after 2 exchanges (τ = 5: the worker at iteration 10) and checkpoints.
    const first = center({ serveData: true, maxExchanges: 2 })
    const [centerPort, dataPort] = await Promise.all([first.centerPort, first.dataPort])
    const common = ["--connect", `127.0.0.1:${centerPort}`, "--stage-from", `127.0.0.1:${dataPort}`]
    const wA = worker([...common, "--partition", "1/2", "--id", "wA", "--token", "tok", "--stage-to", "staged"])
    const intruder = worker([...common, "--partition", "0/2", "--id", "intruder", "--token", "wrong", "--stage-to", "staged-intruder"])
    const [codeA, codeIntruder, result] = await Promise.all([wA.exit, intruder.exit, first.done])
    expect(codeA, wA.out()).toBe(0)
    expect(result).toMatchObject({ reason: "exchange-target", exchanges: 2 })
    expect(first.lines.join("\n")).toContain(`Staging server listening on 127.0.0.1:${dataPort}: partitions of the databases under ${centerDir}`)

    const target = stagedAt("staged", 1, 2)
    expect(wA.out()).toContain(`worker wA: staged range partition 1/2 of ${TRAIN} from 127.0.0.1:${dataPort} into ${target}: 128 records, keys 00000128 … 00000255`)
    expect(wA.out()).toMatch(/worker wA: finished at iteration 10 after 2 exchanges \(stopped by the center\)/)
    const staged = await Dataset.lmdb(target)
    expect(await Effect.runPromise(verifyPartition("wA", staged, await plan(1, 2)))).toMatchObject({ count: 128, firstKey: "00000128", lastKey: "00000255" })
    await staged.close()
    expect(fs.existsSync(path.join(workerDir, TRAIN))).toBe(false)

    // The cursor the center kept speaks of partition 1/2 of the source (not of the staged copy), at the
    // 10 batches of 64 the worker read: the same cursor a direct read would have saved.
    const dsstate = path.join(centerDir, "staging_center_exchange_2.dsstate")
    const saved = JSON.parse(fs.readFileSync(dsstate, "utf8")) as { workers: Array<{ workerId: string; clock: number; cursor: string }> }
    const wAState = saved.workers.find((w) => w.workerId === "wA")!
    expect(wAState.clock).toBe(10)
    const cursor = JSON.parse((JSON.parse(wAState.cursor) as Record<string, string>).mnist!) as { partition: unknown; size: number; epoch: number; position: number }
    expect(cursor).toMatchObject({ partition: { index: 1, count: 2, mode: "range" }, size: 128 })
    expect(cursor.epoch * 128 + cursor.position).toBe(640)

    // Wrong token: one line naming the source and the server, exit 3, no restart.
    expect(codeIntruder, intruder.out()).toBe(3)
    expect(intruder.out()).toContain(
      `worker intruder: the staging server at 127.0.0.1:${dataPort} refused to stage ${TRAIN} (Data layer "mnist", range partition 0/2): wrong staging token (auth)`
    )
    expect(intruder.out()).not.toMatch(/attempt 2|restarting in/)
    expect(fs.existsSync(stagedAt("staged-intruder", 0, 2))).toBe(false)

    // The center restarted from its checkpoint, serving no data: the staging server is gone, the staged
    // copy is enough, and the worker resumes at iteration 10 from the cursor above.
    const second = center({ serveData: false, resume: dsstate })
    const wA2 = worker(["--connect", `127.0.0.1:${await second.centerPort}`, "--stage-from", `127.0.0.1:${dataPort}`, "--partition", "1/2", "--id", "wA", "--token", "tok", "--stage-to", "staged", "--max-restarts", "0"])
    const [code2, again] = await Promise.all([wA2.exit, second.done])
    expect(code2, wA2.out()).toBe(0)
    expect(again).toMatchObject({ reason: "workers-finished", exchanges: 8 })
    expect(wA2.out()).toContain(`worker wA: range partition 1/2 of ${TRAIN} already staged at ${target} (128 records, keys 00000128 … 00000255, verified; no server needed)`)
    expect(wA2.out()).toMatch(/registered as incarnation 2, resuming at iteration 10/)
    expect(wA2.out()).toMatch(/worker wA: finished at iteration 40 after 6 exchanges/)
  }, 180_000)

  it("the driver's TcpWorkerPool serves the data too: workers stage from it and train", async () => {
    const listening = Effect.runSync(Deferred.make<{ center: number; data: number }>())
    let dataPort = 0
    const driver = runDistributedTrain({
      solverFile: writeTrainOnlyLenetSolver(centerDir, "lenet_solver_pool.prototxt", 10),
      cwd: centerDir,
      workers: 2,
      settings: makeEasgdSettings({ period: 5, moving_rate: 0.2 }),
      log: new GlogLogger(() => {})
    }).pipe(
      Effect.provide(
        TcpWorkerPool({
          host: "127.0.0.1",
          port: 0,
          token: "pool-token",
          // No root: the run's working directory (centerDir), where Caffe resolves the sources.
          serveData: { port: 0, onListening: (a) => void (dataPort = a.port) },
          onListening: (a) => Deferred.unsafeDone(listening, Effect.succeed({ center: a.port, data: dataPort }))
        })
      )
    )
    const poolSolver = writeTrainOnlyLenetSolver(workerDir, "lenet_solver_pool.prototxt", 10)
    const lines: string[] = []
    const trainer = (i: number) =>
      Effect.gen(function* () {
        const ports = yield* Deferred.await(listening)
        const stagedData = yield* stageTrainData({
          solverPath: poolSolver,
          cwd: workerDir,
          partition: { index: i, count: 2 },
          worker: `pool${i}`,
          token: "pool-token",
          server: { host: "127.0.0.1", port: ports.data },
          dir: "staged-pool",
          log: (l) => lines.push(l)
        })
        const t = yield* Effect.promise(() => buildTrainer({ kind: "caffe", solverPath: poolSolver, workingDirectory: workerDir, stagedData }, { index: i, count: 2 }))
        return yield* Effect.gen(function* () {
          const client = yield* makeCenterClient
          return yield* runTrainerLoop(client, t, { workerId: `pool${i}`, token: "pool-token", partition: { index: i, count: 2 }, period: 5, maxIter: 10 })
        }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port: ports.center })))
      })
    const [result, r0, r1] = await Effect.runPromise(Effect.scoped(Effect.all([driver, trainer(0), trainer(1)], { concurrency: "unbounded" })))
    expect(r0.exchanges + r1.exchanges).toBe(4)
    expect(result.exchanges).toBe(4)
    for (const i of [0, 1]) {
      const staged = await Dataset.lmdb(stagedAt("staged-pool", i, 2))
      expect(await Effect.runPromise(verifyPartition(`pool${i}`, staged, await plan(i, 2)))).toMatchObject({ count: 128 })
      await staged.close()
      expect(lines.some((l) => l.startsWith(`worker pool${i}: staged range partition ${i}/2 of ${TRAIN} from 127.0.0.1:${dataPort}`))).toBe(true)
    }
  }, 120_000)
})
