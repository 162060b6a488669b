import { SnapshotWritten, TestResult, TrainLoss, type RunEvent } from "./run-event.js"

/**
 * A single Caffe solver's progress as RunEvents, read from its glog lines the way Caffe's
 * tools/extra/parse_log.py reads them: `Iteration N (…), loss = L` is a training loss, `Iteration N,
 * Testing net (#0)` followed by `Test net output #k: name = v [(* w = … loss)]` lines is a test result
 * (emitted at the first line that is not one of its outputs, or at `flush`), `Snapshotting to binary
 * proto file F` a snapshot. Only test net #0 is reported, as the plots show one test net.
 */
export interface CaffeLogEvents {
  readonly feed: (line: string) => void
  /** Emits a test result still waiting for more output lines (call at the end of the run). */
  readonly flush: () => void
}

const trainLine = /\] Iteration (\d+)(?: \(([-+\w.]+) iter\/s[^)]*\))?, loss = ([-+\w.]+)\s*$/
const testStart = /\] Iteration (\d+), Testing net \(#(\d+)\)/
const testOutput = /\]\s+Test net output #\d+: (\S+) = ([-+\w.]+)(?: \(\* ([-+\w.]+) = [-+\w.]+ loss\))?/
const snapshot = /\] Snapshotting to binary proto file (.+)$/

export const caffeLogEvents = (publish: (e: RunEvent) => void, elapsed: () => number, worker = "solver"): CaffeLogEvents => {
  let test: { iteration: number; net: number; outputs: Array<{ name: string; value: number; lossWeight: number }> } | undefined
  const flush = () => {
    if (test && test.net === 0 && test.outputs.length > 0) {
      const accuracy = test.outputs.find((o) => /accuracy/i.test(o.name))?.value
      const loss = test.outputs.find((o) => o.lossWeight > 0)?.value
      publish(
        new TestResult({
          t: elapsed(),
          iteration: test.iteration,
          ...(accuracy !== undefined ? { accuracy } : {}),
          ...(loss !== undefined ? { loss } : {}),
          outputs: test.outputs.map(({ name, value }) => ({ name, value }))
        })
      )
    }
    test = undefined
  }
  return {
    flush,
    feed: (line) => {
      const out = test ? testOutput.exec(line) : null
      if (out && test) {
        test.outputs.push({ name: out[1]!, value: Number(out[2]), lossWeight: out[3] !== undefined ? Number(out[3]) : 0 })
        return
      }
      // "Test loss: …" sits between the testing line and the outputs.
      if (test && / Test loss: /.test(line)) return
      flush()
      let m: RegExpExecArray | null
      if ((m = testStart.exec(line))) test = { iteration: Number(m[1]), net: Number(m[2]), outputs: [] }
      else if ((m = trainLine.exec(line)))
        publish(
          new TrainLoss({ t: elapsed(), worker, iteration: Number(m[1]), loss: Number(m[3]), ...(m[2] !== undefined ? { itersPerSecond: Number(m[2]) } : {}) })
        )
      else if ((m = snapshot.exec(line))) publish(new SnapshotWritten({ t: elapsed(), file: m[1]!.trim() }))
    }
  }
}
