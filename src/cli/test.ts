/**
 * `deepspark test`: Caffe's `caffe test -model M -weights W [-iterations N]` — N forward passes of the
 * TEST-phase net, `Batch i, <output> = v` per output element, `Loss: L`, then each output's mean.
 */
import { formatG, GlogLogger, ResidentSolverNet } from "@deepspark/engine"
import { describeOptions, helpOption, noPositionals, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliCommand, type CliIo } from "./command.js"
import { openNetFromOptions, standaloneNetOptions } from "./net-options.js"

const f32 = Math.fround

const options: ReadonlyArray<OptionSpec> = [
  ...standaloneNetOptions({ iterations: "number of batches", weights: "the trained weights (required)" }),
  helpOption
]

const help = [
  "usage: deepspark test --model FILE --weights FILE.caffemodel [--iterations N]",
  "",
  "Scores a trained model as `caffe test` does (TEST phase, glog lines on stderr).",
  "",
  ...describeOptions(options)
]

export const runTest = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const p = parseOptions(argv, options)
  if (p.flag("help")) {
    for (const l of help) io.stdout(l)
    return 0
  }
  noPositionals(p)
  const model = p.string("model")
  if (model === undefined) throw new CliUsageError("Need a model definition to score (--model FILE)")
  if (p.string("weights") === undefined) throw new CliUsageError("Need model weights to score (--weights FILE)")
  const log = new GlogLogger((line) => io.stderr(line))
  const { net, device, close, iterations } = await openNetFromOptions(model, p, io, log, "TEST")
  try {
    // On the GPU the net's blobs stay on the device; each batch reads back only its outputs.
    const resident = device ? new ResidentSolverNet(device, net, log) : undefined
    log.info(`Running for ${iterations} iterations.`)
    const outputs = net.outputBlobs()
    const residentValues = resident ? new Map(resident.outputs().map((o) => [o.name, o.values])) : undefined
    const scores: number[] = []
    const scoreOutput: number[] = []
    let loss = 0
    for (let i = 0; i < iterations; i++) {
      const iterLoss = resident ? await resident.device.forward() : net.forward()
      if (!Number.isFinite(iterLoss)) throw new Error(`Batch ${i}: the loss of net "${net.name}" is ${iterLoss}`)
      loss = f32(loss + iterLoss)
      let idx = 0
      outputs.forEach((out, j) => {
        const values = residentValues?.get(out.name)?.() ?? out.blob.data
        for (let k = 0; k < out.blob.count; k++, idx++) {
          const score = values[k]!
          if (i === 0) {
            scores.push(score)
            scoreOutput.push(j)
          } else scores[idx] = f32(scores[idx]! + score)
          log.info(`Batch ${i}, ${out.name} = ${formatG(score)}`)
        }
      })
    }
    loss = f32(loss / iterations)
    log.info(`Loss: ${formatG(loss)}`)
    scores.forEach((sum, i) => {
      const out = outputs[scoreOutput[i]!]!
      const mean = f32(sum / iterations)
      const lossMsg = out.lossWeight ? ` (* ${formatG(out.lossWeight)} = ${formatG(f32(out.lossWeight * mean))} loss)` : ""
      log.info(`${out.name} = ${formatG(mean)}${lossMsg}`)
    })
  } finally {
    await close()
  }
  return 0
}

export const testCommand: CliCommand = {
  name: "test",
  summary: "score a trained model (caffe test: --model, --weights, --iterations)",
  run: runTest
}
