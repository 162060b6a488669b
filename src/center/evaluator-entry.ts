import { chooseBackend, createTrainingSession, GlogLogger, type Logger } from "@deepspark/engine"
import { readSolverPrototxtSync } from "@deepspark/caffe"
import * as os from "node:os"
import * as path from "node:path"
import { parentPort, workerData } from "node:worker_threads"
import { unflattenParams } from "../model/flat-params.js"
import { centerSolverParam } from "../model/train-only-solver.js"
import { decodeInputSync } from "../transport/decode-input.js"
import { EvaluatorSetup, type EvaluatorRequest, type EvaluatorResponse } from "./evaluator-protocol.js"

/**
 * The center's test bench, in its own thread so testing x̃ never holds up exchanges: the solver's
 * test nets, fed x̃ by message, run Caffe's Test and answer with the mean outputs. Its Caffe log lines
 * go back to the main thread, which prints them as the center's log.
 */
const setup = decodeInputSync(EvaluatorSetup, "evaluator thread: its workerData")(workerData)
const port = parentPort!
const post = (m: EvaluatorResponse, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

/** Sets this thread's nice value (setpriority on the calling thread under Linux); null where refused. */
const applyNiceness = (niceness: number | undefined): number | null => {
  try {
    if (niceness !== undefined && niceness !== 0) os.setPriority(0, niceness)
    return os.getPriority(0)
  } catch {
    return null
  }
}

/** Where the solver's test nets come from, for an error: its test_net files, its net file, or inline. */
const testNetsOf = (solverPath: string, param: { readonly test_net?: ReadonlyArray<string>; readonly net?: string }): string => {
  const files = param.test_net?.length ? param.test_net : param.net !== undefined ? [param.net] : []
  return files.length ? `${solverPath}: test net ${files.join(", ")}` : `${solverPath}: its inline test net`
}

const main = async () => {
  const niceness = applyNiceness(setup.niceness)
  const log: Logger = new GlogLogger((line) => post({ type: "log", line }))
  // A run on GPUs (`gpu:0,1`) gives them to the trainers; the center's test nets run on the host.
  const backend = await chooseBackend(setup.backend?.startsWith("gpu") ? "cpu" : setup.backend, log)
  const cwd = setup.cwd
  const param = centerSolverParam(readSolverPrototxtSync(path.resolve(cwd, setup.solverPath)))
  const session = await createTrainingSession({
    solverParam: param,
    cwd,
    backend,
    log,
    ...(setup.stagedData ? { partition: { index: 0, count: 1 }, stagedData: setup.stagedData } : {})
  }).catch((e: unknown) => {
    // The net builder names the layer; the user also needs the file it is in.
    throw new Error(`${testNetsOf(setup.solverPath, param)}: ${e instanceof Error ? e.message : String(e)}`)
  })
  const solver = session.solver
  const params = solver.trainNet.learnableParams()
  post({ type: "ready", testNets: solver.testNets.length, niceness })
  port.on("message", (m: EvaluatorRequest) => {
    if (m.type === "close") {
      void session.close().then(() => process.exit(0))
      return
    }
    try {
      unflattenParams(params, m.x)
      solver.iter = m.iteration
      const results = solver.testNets.map((net, i) => {
        solver.test(i)
        const names: string[] = []
        const weights: number[] = []
        for (const o of net.outputs()) {
          const n = o.values().length
          for (let k = 0; k < n; k++) {
            names.push(n === 1 ? o.name : `${o.name}[${k}]`)
            weights.push(o.lossWeight)
          }
        }
        const means = solver.meanScores[i] ?? []
        return { outputs: means.map((value, k) => ({ name: names[k] ?? `#${k}`, value, lossWeight: weights[k] ?? 0 })) }
      })
      post({ type: "result", id: m.id, results })
    } catch (e) {
      post({ type: "error", id: m.id, message: e instanceof Error ? e.message : String(e) })
    }
  })
}

main().catch((e) => {
  post({ type: "fatal", message: e instanceof Error ? e.message : String(e) })
  process.exit(1)
})
