import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { createLmdb, Dataset, encodeDatum, STAGED_MARKER, verifyPartition } from "@deepspark/data"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveStagingTcp } from "./server.js"
import { StagingFailed } from "./staging-failed.js"
import { stagedPartitionName } from "./train-data.js"
import { stageTrainData, type StageTrainDataOptions } from "./worker-staging.js"

/**
 * A worker's `--stage-from/--stage-to` step in one process: the staging server over TCP (loopback), the
 * worker's working directory holding only the prototxts.
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-worker-staging-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const serverDir = path.join(tmp, "server")
const workerDir = path.join(tmp, "worker")

const writeDb = async (dir: string, n: number, prefix: string) => {
  const db = createLmdb(dir)
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(16).map((_, j) => (i * 7 + j) & 0xff)
    db.putSync(`${prefix}${String(i).padStart(6, "0")}`, encodeDatum({ channels: 1, height: 4, width: 4, data, label: i % 10 }))
  }
  await db.close()
}

const net = (trainSource: string) => `name: "n"
layer { name: "mnist" type: "Data" top: "x" top: "y" include { phase: TRAIN } data_param { source: "${trainSource}" batch_size: 4 backend: LMDB } }
layer { name: "aux" type: "Data" top: "x2" top: "y2" include { phase: TRAIN } data_param { source: "data/aux_lmdb" batch_size: 4 backend: LMDB } }
layer { name: "mnist_test" type: "Data" top: "x" top: "y" include { phase: TEST } data_param { source: "data/test_lmdb" batch_size: 4 backend: LMDB } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "z" inner_product_param { num_output: 2 } }
`

beforeAll(async () => {
  mkdirSync(path.join(serverDir, "data"), { recursive: true })
  mkdirSync(workerDir, { recursive: true })
  await writeDb(path.join(serverDir, "data/train_lmdb"), 90, "t")
  await writeDb(path.join(serverDir, "data/aux_lmdb"), 30, "a")
  await writeDb(path.join(serverDir, "data/test_lmdb"), 12, "x")
  for (const [name, source] of [
    ["net", "data/train_lmdb"],
    ["net_missing", "data/missing_lmdb"],
    ["net_absolute", path.join(serverDir, "data/train_lmdb")]
  ] as const) {
    writeFileSync(path.join(workerDir, `${name}.prototxt`), net(source))
    writeFileSync(path.join(workerDir, `solver_${name}.prototxt`), `net: "${name}.prototxt"\nbase_lr: 0.1\nmax_iter: 4\ntest_iter: 1\ntest_interval: 2\n`)
  }
})

const startServer = async (token = "tok") => {
  const scope = await Effect.runPromise(Scope.make())
  const { port } = await Effect.runPromise(Scope.extend(serveStagingTcp({ host: "127.0.0.1", port: 0, token, root: serverDir }), scope))
  return { port, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const stage = (port: number, overrides: Partial<StageTrainDataOptions> = {}) => {
  const lines: Array<string> = []
  const run = stageTrainData({
    solverPath: "solver_net.prototxt",
    cwd: workerDir,
    partition: { index: 1, count: 3 },
    worker: "w1",
    token: "tok",
    server: { host: "127.0.0.1", port },
    dir: "staged",
    callTimeoutMs: 5000,
    chunkBytes: 500,
    log: (l) => lines.push(l),
    ...overrides
  })
  return { lines, run }
}

const failure = async (port: number, overrides: Partial<StageTrainDataOptions>) => {
  const { run } = stage(port, overrides)
  const e = await Effect.runPromise(Effect.flip(run))
  expect(e).toBeInstanceOf(StagingFailed)
  expect(e.message).not.toMatch(/\n/)
  return e
}

/** The plan the Data layer would train on when reading the server's database directly. */
const plan = async (source: string, index: number, count: number) => {
  const whole = await Dataset.lmdb(path.join(serverDir, source))
  const part = whole.partition(count)[index]!
  const out = { count: part.size, firstKey: part.keyAt(0), lastKey: part.keyAt(part.size - 1) }
  await whole.close()
  return out
}

describe("stageTrainData (a worker's --stage-from / --stage-to)", () => {
  it("stages partition 1/3 of each TRAIN Data layer's source, verified against the plan; a second call needs no server", async () => {
    const server = await startServer()
    const first = stage(server.port)
    const staged = await Effect.runPromise(first.run)
    const dir = path.join(workerDir, "staged")
    expect(staged).toEqual({
      mnist: path.join(dir, stagedPartitionName("data/train_lmdb", { index: 1, count: 3 })),
      aux: path.join(dir, stagedPartitionName("data/aux_lmdb", { index: 1, count: 3 }))
    })
    for (const [layer, source] of [["mnist", "data/train_lmdb"], ["aux", "data/aux_lmdb"]] as const) {
      const expected = await plan(source, 1, 3)
      const local = await Dataset.lmdb(staged[layer]!)
      expect(await Effect.runPromise(verifyPartition("w1", local, { partition: source, ...expected }))).toMatchObject(expected)
      await local.close()
      expect(existsSync(path.join(staged[layer]!, STAGED_MARKER))).toBe(true)
    }
    expect((await plan("data/train_lmdb", 1, 3)).count).toBe(30)
    // The test net's database is the center's business.
    expect(existsSync(path.join(dir, stagedPartitionName("data/test_lmdb", { index: 1, count: 3 })))).toBe(false)
    expect(first.lines[0]).toMatch(
      new RegExp(`^worker w1: staged range partition 1/3 of data/train_lmdb from 127\\.0\\.0\\.1:${server.port} into .*staged/data_train_lmdb-[0-9a-f]{8}\\.part-1-of-3: 30 records, keys t000030 … t000059, sha256 [0-9a-f]{12}…, [0-9]+ chunk\\(s\\)$`)
    )
    await server.close()

    const again = stage(server.port)
    expect(await Effect.runPromise(again.run)).toEqual(staged)
    expect(again.lines[0]).toMatch(/^worker w1: range partition 1\/3 of data\/train_lmdb already staged at .*part-1-of-3 \(30 records, keys t000030 … t000059, verified; no server needed\)$/)
  })

  it("a wrong token: one line naming the source and the server, permanent", async () => {
    const server = await startServer("s3cret")
    const e = await failure(server.port, { dir: "staged-token" })
    await server.close()
    expect(e.permanent).toBe(true)
    expect(e.message).toBe(
      `worker w1: the staging server at 127.0.0.1:${server.port} refused to stage data/train_lmdb (Data layer "mnist", range partition 1/3): wrong staging token (auth)`
    )
  })

  it("a source the server does not have: permanent, naming it", async () => {
    const server = await startServer()
    const e = await failure(server.port, { solverPath: "solver_net_missing.prototxt", dir: "staged-missing" })
    await server.close()
    expect(e.permanent).toBe(true)
    expect(e.message).toMatch(
      new RegExp(`^worker w1: the staging server at 127\\.0\\.0\\.1:${server.port} refused to stage data/missing_lmdb \\(Data layer "mnist", range partition 1/3\\): cannot open lmdb database "data/missing_lmdb" .*\\(not-found\\)$`)
    )
  })

  it("an unreachable server: naming it and the source, not permanent (a restart tries again)", async () => {
    const server = await startServer()
    await server.close()
    const e = await failure(server.port, { dir: "staged-unreachable" })
    expect(e.permanent).toBe(false)
    expect(e.message).toMatch(
      new RegExp(`^worker w1: cannot reach the staging server at 127\\.0\\.0\\.1:${server.port} to stage data/train_lmdb \\(Data layer "mnist", range partition 1/3\\): .*ECONNREFUSED`)
    )
  })

  it("an absolute source, or a local folder in the way: permanent", async () => {
    const server = await startServer()
    const absolute = await failure(server.port, { solverPath: "solver_net_absolute.prototxt", dir: "staged-abs" })
    expect(absolute.permanent).toBe(true)
    expect(absolute.message).toMatch(/^worker w1: cannot stage .*train_lmdb \(Data layer "mnist", range partition 1\/3\) from 127\.0\.0\.1:\d+: data_param.source ".*" is an absolute path/)
    const blocked = path.join(workerDir, "staged-blocked", stagedPartitionName("data/train_lmdb", { index: 1, count: 3 }))
    mkdirSync(blocked, { recursive: true })
    const inTheWay = await failure(server.port, { dir: "staged-blocked" })
    await server.close()
    expect(inTheWay.permanent).toBe(true)
    expect(inTheWay.message).toMatch(/is not a staged partition \(no deepspark-staged\.json\); refusing to overwrite it \(staging server 127\.0\.0\.1:\d+\)$/)
    // Nothing was written into the folder that was in the way.
    expect(existsSync(path.join(blocked, "data.mdb"))).toBe(false)
  })
})
