import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { syntheticCenterJob } from "../simulator/synthetic-center-job.js"
import { CheckpointError, exchangeCheckpointBase, readCenterCheckpoint, writeCenterCheckpoint } from "./center-checkpoint.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { CenterState, type CenterCheckpointState } from "./center-state.js"

const dir = mkdtempSync(path.join(tmpdir(), "ds-checkpoint-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const job = syntheticCenterJob({ problemSeed: 3 })
const state: CenterCheckpointState = {
  format: "deepspark-center/1",
  version: 7,
  exchanges: 12,
  rule: "async-easgd",
  alpha: 0.2,
  centerRate: 0.2,
  workers: [{ workerId: "w0", incarnation: 2, partition: { index: 0, count: 1 }, clock: 60, cursor: null, exchanges: 12 }]
}

const failure = async (statePath: string): Promise<CheckpointError> => {
  try {
    await readCenterCheckpoint(job, statePath)
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError)
    return e as CheckpointError
  }
  throw new Error(`${statePath} was read`)
}

describe("the center's checkpoint (one format for deepspark center and the driver)", () => {
  it("writes <base><ext> then <base>.dsstate naming it; reads both back", async () => {
    const x = job.initialParams()
    x[0] = 42
    const files = await writeCenterCheckpoint(job, exchangeCheckpointBase(path.join(dir, "run"), 12), x, state)
    expect(files).toEqual({ model: path.join(dir, "run_exchange_12.f32"), state: path.join(dir, "run_exchange_12.dsstate") })
    expect(JSON.parse(readFileSync(files.state, "utf8"))).toEqual({ ...state, model: "run_exchange_12.f32" })
    const back = await readCenterCheckpoint(job, files.state)
    expect(back.x).toEqual(x)
    expect(back.state).toEqual({ ...state, model: "run_exchange_12.f32" })
    expect(back.model).toBe(files.model)
  })

  it("reads a .dsstate that names its model as 'caffemodel' (the driver's files before the formats merged)", async () => {
    const base = path.join(dir, "legacy_iter_40")
    const files = await writeCenterCheckpoint(job, base, job.initialParams(), state)
    writeFileSync(files.state, JSON.stringify({ ...state, caffemodel: path.basename(files.model) }))
    expect((await readCenterCheckpoint(job, files.state)).model).toBe(files.model)
  })

  it("refuses, naming the file: not JSON, another format, no model named, a missing model, another net's size", async () => {
    const bad = (name: string, json: unknown) => {
      const file = path.join(dir, name)
      writeFileSync(file, typeof json === "string" ? json : JSON.stringify(json))
      return file
    }
    expect((await failure(bad("a.dsstate", "{"))).message).toMatch(/a\.dsstate: cannot read the center state: /)
    expect((await failure(bad("b.dsstate", { format: "x" }))).message).toMatch(/b\.dsstate: format "x" is not deepspark-center\/1$/)
    expect((await failure(bad("c.dsstate", state))).message).toMatch(/c\.dsstate: field "model" \(the model file\) is missing$/)
    const gone = path.join(dir, "gone.f32")
    expect(existsSync(gone)).toBe(false)
    expect((await failure(bad("d.dsstate", { ...state, model: "gone.f32" }))).message).toBe(`${path.join(dir, "d.dsstate")}: its model file ${gone} does not exist`)
    const small = { ...job, initialParams: () => new Float32Array(3) }
    const files = await writeCenterCheckpoint(small, path.join(dir, "small"), small.initialParams(), state)
    expect((await failure(files.state)).message).toBe(`${files.model}: 3 parameters, the job's net has ${job.paramCount}`)
  })

  it("decodes every field of a .dsstate: a wrong one is refused naming the file and the field", async () => {
    const base = path.join(dir, "fields")
    const files = await writeCenterCheckpoint(job, base, job.initialParams(), state)
    const withWorker = (w: Record<string, unknown>) => ({ ...state, model: path.basename(files.model), workers: [{ ...state.workers[0], ...w }] })
    const cases: Array<[unknown, string]> = [
      [{ ...state, model: path.basename(files.model), exchanges: -3 }, `field "exchanges" must be a non-negative integer`],
      [{ ...state, model: path.basename(files.model), workers: {} }, `field "workers" must be an array`],
      [withWorker({ clock: "60" }), `field "workers.0.clock": Expected number, actual "60"`],
      [withWorker({ partition: { index: 0 } }), `field "workers.0.partition.count" is missing`],
      [withWorker({ cursor: 7 }), `field "workers.0.cursor": Expected string, actual 7`],
      [{ ...state, model: 12 }, `field "model": Expected string, actual 12`]
    ]
    for (const [json, detail] of cases) {
      writeFileSync(files.state, JSON.stringify(json))
      const e = await failure(files.state)
      expect(e.message).toMatch(new RegExp(`fields\\.dsstate: `))
      expect(e.message.endsWith(detail), e.message).toBe(true)
    }
  })

  it("keeps a diloco center's outer momentum through the files, and refuses a malformed one", async () => {
    const make = () => new CenterState({ token: "t", settings: makeEasgdSettings({ rule: "diloco" }), workers: 1, initial: job.initialParams() })
    const c = make()
    c.register({ workerId: "w", token: "t", paramCount: job.paramCount, partition: { index: 0, count: 1 } }, 0)
    const delta = new Float32Array(job.paramCount).fill(0.25)
    c.applyRound([{ workerId: "w", incarnation: 1, token: "t", seq: 1, clock: 5, params: delta, lossSum: 1, iterations: 5, cursor: null }])
    const files = await writeCenterCheckpoint(job, path.join(dir, "diloco"), c.x, c.checkpointState())
    const back = await readCenterCheckpoint(job, files.state)
    const d = make()
    d.restore(back.x, back.state)
    expect(d.restoredWithoutRuleState).toBe(false)
    expect(d.checkpointState().ruleState).toEqual(c.checkpointState().ruleState)
    writeFileSync(files.state, JSON.stringify({ ...back.state, ruleState: { outer_momentum: "not base64!" } }))
    expect((await failure(files.state)).message).toMatch(/diloco\.dsstate: field "ruleState\.outer_momentum" must be base64 of float32 values$/)
  })
})

describe("an elastic run's checkpoint", () => {
  const elastic = {
    plan: { records: 100, nextId: 4, plannedEpochs: 1, repeated: 3, open: [{ epoch: 0, from: 10, to: 50, previousOwner: "w0" }] },
    scheduleClock: 12.5
  }
  it("keeps the data plan and the schedule's clock through a .dsstate", async () => {
    const files = await writeCenterCheckpoint(job, path.join(dir, "elastic_exchange_12"), job.initialParams(), { ...state, elastic })
    const back = await readCenterCheckpoint(job, files.state)
    expect(back.state.elastic).toEqual(elastic)
  })

  it("refuses a plan whose range lies outside the training set, naming the field", async () => {
    const files = await writeCenterCheckpoint(job, path.join(dir, "bad_elastic"), job.initialParams(), {
      ...state,
      elastic: { ...elastic, plan: { ...elastic.plan, open: [{ epoch: 0, from: 90, to: 120 }] } }
    })
    expect((await failure(files.state)).message).toMatch(/bad_elastic\.dsstate: field "elastic\.plan": .*bad open range/)
  })
})
