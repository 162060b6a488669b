/**
 * `deepspark test`: Caffe's `caffe test -model M -weights W [-iterations N]` — N forward passes of the
 * TEST-phase net, `Batch i, <output> = v` per output element, `Loss: L`, then each output's mean.
 */
import { chooseBackend, formatG, GlogLogger, openStandaloneNet } from "@deepspark/engine"
import { describeOptions, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliCommand, type CliIo } from "./command.js"

const f32 = Math.fround

const options: ReadonlyArray<OptionSpec> = [
  { name: "model", type: "string", value: "FILE", description: "the net prototxt (required)" },
  { name: "weights", type: "string", value: "A.caffemodel[,B...]", description: "the trained weights (required)" },
  { name: "iterations", type: "number", value: "N", description: "number of batches (default 50)" },
  { name: "level", type: "number", value: "N", description: "NetState level" },
  { name: "stage", type: "strings", value: "NAME", description: "add a NetState stage" },
  { name: "backend", type: "string", value: "cpu|gpu|reference", description: "kernels: cpu (WebAssembly SIMD, default), gpu (gpu.js), reference (plain loops)" },
  { name: "help", type: "boolean", description: "show this help" }
]

const help = [
  "usage: deepspark test --model FILE --weights FILE.caffemodel [--iterations N]",
  "",
  "Scores a trained model as `caffe test` does (TEST phase, glog lines on stderr).",
  "",
  ...describeOptions(options)
]

export const runTest = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const { options: o, positionals } = parseOptions(argv, options)
  if (o.get("help")) {
    for (const l of help) io.stdout(l)
    return 0
  }
  if (positionals.length > 0) throw new CliUsageError(`unexpected argument '${positionals[0]}'`)
  const model = o.get("model") as string | undefined
  const weights = o.get("weights") as string | undefined
  if (model === undefined) throw new CliUsageError("Need a model definition to score (--model FILE)")
  if (weights === undefined) throw new CliUsageError("Need model weights to score (--weights FILE)")
  const iterations = (o.get("iterations") as number | undefined) ?? 50
  if (!Number.isInteger(iterations) || iterations < 1) throw new CliUsageError(`--iterations takes a positive integer, got ${iterations}`)
  const log = new GlogLogger((line) => io.stderr(line))
  const backend = await chooseBackend(o.get("backend") as string | undefined, log)
  log.info(`Use backend ${backend.name}: ${backend.description}`)
  const level = o.get("level") as number | undefined
  const stages = o.get("stage") as ReadonlyArray<string> | undefined
  const { net, close } = await openStandaloneNet(model, {
    phase: "TEST",
    cwd: io.cwd ?? process.cwd(),
    backend,
    log,
    weights: weights.split(",").map((w) => w.trim()).filter((w) => w !== ""),
    ...(level !== undefined ? { level } : {}),
    ...(stages !== undefined ? { stages } : {})
  })
  try {
    log.info(`Running for ${iterations} iterations.`)
    const outputs = net.outputBlobs()
    const scores: number[] = []
    const scoreOutput: number[] = []
    let loss = 0
    for (let i = 0; i < iterations; i++) {
      const iterLoss = net.forward()
      if (!Number.isFinite(iterLoss)) throw new Error(`Batch ${i}: the loss of net "${net.name}" is ${iterLoss}`)
      loss = f32(loss + iterLoss)
      let idx = 0
      outputs.forEach((out, j) => {
        for (let k = 0; k < out.blob.count; k++, idx++) {
          const score = out.blob.data[k]!
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
