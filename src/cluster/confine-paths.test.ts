import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { confineTrainPayload } from "./confine-paths.js"
import type { TrainPayload } from "./trainer-entity.js"

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-confine-")))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const payload = (logFile: string): TrainPayload => ({
  assignment: {
    workerId: "w0",
    token: "t",
    partition: { index: 0, count: 1 },
    period: 5,
    maxIter: 10,
    adaptivePeriod: false,
    spec: { kind: "caffe", solverPath: "solver.prototxt", workingDirectory: root, logFile }
  },
  centerHost: "127.0.0.1",
  centerPort: 1,
  heartbeatEveryMs: 1000,
  callTimeoutMs: 5000,
  maxMessageBytes: 1 << 20,
  maxRestarts: 0,
  backoffMs: 100
})

describe("a runner confines a trainer's log file to its root", () => {
  it("accepts one under the root and refuses one outside it, naming it", () => {
    expect("payload" in confineTrainPayload(payload("logs/w0.log"), root)).toBe(true)
    const refused = confineTrainPayload(payload("../../etc/cron.d/w0"), root)
    expect("refused" in refused && refused.refused).toMatch(/^the log file ".*etc\/cron\.d\/w0" is outside this runner's root/)
  })
})
