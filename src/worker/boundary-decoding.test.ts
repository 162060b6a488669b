import { spawn } from "node:child_process"
import { MessageChannel, Worker } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { processEntry, threadEntry } from "../launch/entry-points.js"
import { captureOutput } from "../../test/support/captured-process.js"

/**
 * What a worker thread or trainer process is handed is decoded with its Schema on arrival: a value
 * that does not fit ends it at once with one line naming where it came from and the field at fault.
 */
const assignment = {
  workerId: "w0",
  token: "tok",
  partition: { index: 0, count: 1 },
  period: 5,
  maxIter: 10,
  adaptivePeriod: false,
  spec: { kind: "softmax-problem", problemSeed: 3, seed: 1 }
}

const trainerChild = (arg: string) => {
  const entry = processEntry("trainer-child")
  return captureOutput(spawn(process.execPath, [entry.file.pathname, ...entry.args, arg], { stdio: ["ignore", "pipe", "pipe", "ipc"] }))
}

/** Starts a thread with `workerData`; resolves with the message of the error it fails with. */
const threadError = (name: "worker-entry" | "evaluator-entry", data: Record<string, unknown>, transfer: ReadonlyArray<import("node:worker_threads").MessagePort> = []) =>
  new Promise<string>((resolve, reject) => {
    const entry = threadEntry(name)
    const worker = new Worker(entry.file, { workerData: { ...entry.workerData, ...data }, transferList: [...transfer] })
    worker.on("error", (e) => resolve(e.message))
    worker.on("exit", (code) => reject(new Error(`${name} exited with ${code} without an error`)))
  })

describe("decoding at process and thread boundaries", () => {
  it("a trainer child with an assignment argument that does not decode: exit 2, one line naming the field", async () => {
    const missing = trainerChild(JSON.stringify({ host: "127.0.0.1", port: 1, assignment: { workerId: "w0" } }))
    expect(await missing.exit).toBe(2)
    expect(missing.out().trim()).toBe(`trainer-child: its assignment argument: field "assignment.token" is missing`)
    const wrongType = trainerChild(
      JSON.stringify({ host: "127.0.0.1", port: 1, assignment: { ...assignment, partition: { index: "0", count: 1 } }, heartbeatEveryMs: 1, callTimeoutMs: 1, maxMessageBytes: 1 })
    )
    expect(await wrongType.exit).toBe(2)
    expect(wrongType.out().trim()).toBe(`trainer-child: its assignment argument: field "assignment.partition.index": Expected number, actual "0"`)
    const notJson = trainerChild("{")
    expect(await notJson.exit).toBe(2)
    expect(notJson.out().trim()).toBe("trainer-child: its assignment argument is missing or not JSON")
  }, 60_000)

  it("a worker thread or evaluator thread whose workerData does not decode fails naming the field", async () => {
    const { port1, port2 } = new MessageChannel()
    const worker = await threadError("worker-entry", { assignment: { ...assignment, period: 2.5 }, port: port2 }, [port2])
    port1.close()
    expect(worker).toBe(`worker thread: its workerData: field "assignment.period": Expected an integer, actual 2.5`)
    const noPort = await threadError("worker-entry", { assignment })
    expect(noPort).toBe(`worker thread: its workerData: field "port" is missing`)
    const evaluator = await threadError("evaluator-entry", { solverPath: 7, cwd: "/" })
    expect(evaluator).toBe(`evaluator thread: its workerData: field "solverPath": Expected string, actual 7`)
  }, 60_000)
})
