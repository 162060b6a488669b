/**
 * `deepspark time`: Caffe's `caffe time -model M [-iterations N]` — the average forward, backward and
 * forward-backward time of the net and of each layer, with Caffe's lines.
 */
import { chooseBackend, formatG, GlogLogger, openStandaloneNet, type Blob } from "@deepspark/engine"
import { describeOptions, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliCommand, type CliIo } from "./command.js"

const options: ReadonlyArray<OptionSpec> = [
  { name: "model", type: "string", value: "FILE", description: "the net prototxt (required)" },
  { name: "iterations", type: "number", value: "N", description: "number of timed forward-backward passes (default 50)" },
  { name: "phase", type: "string", value: "TRAIN|TEST", description: "net phase (default TRAIN)" },
  { name: "level", type: "number", value: "N", description: "NetState level" },
  { name: "stage", type: "strings", value: "NAME", description: "add a NetState stage" },
  { name: "weights", type: "string", value: "A.caffemodel[,B...]", description: "weights to load first (optional)" },
  { name: "backend", type: "string", value: "cpu|gpu|reference", description: "kernels: cpu (WebAssembly SIMD, default), gpu (gpu.js), reference (plain loops)" },
  { name: "help", type: "boolean", description: "show this help" }
]

const help = [
  "usage: deepspark time --model FILE [--iterations N] [--phase TRAIN|TEST]",
  "",
  "Benchmarks a net as `caffe time` does (per-layer forward/backward times, glog lines on stderr).",
  "",
  ...describeOptions(options)
]

export const runTime = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const { options: o, positionals } = parseOptions(argv, options)
  if (o.get("help")) {
    for (const l of help) io.stdout(l)
    return 0
  }
  if (positionals.length > 0) throw new CliUsageError(`unexpected argument '${positionals[0]}'`)
  const model = o.get("model") as string | undefined
  if (model === undefined) throw new CliUsageError("Need a model definition to time (--model FILE)")
  const iterations = (o.get("iterations") as number | undefined) ?? 50
  if (!Number.isInteger(iterations) || iterations < 1) throw new CliUsageError(`--iterations takes a positive integer, got ${iterations}`)
  const phase = ((o.get("phase") as string | undefined) ?? "TRAIN").toUpperCase()
  if (phase !== "TRAIN" && phase !== "TEST") throw new CliUsageError(`--phase takes TRAIN or TEST, got '${phase}'`)
  const log = new GlogLogger((line) => io.stderr(line))
  const backend = await chooseBackend(o.get("backend") as string | undefined, log)
  log.info(`Use backend ${backend.name}: ${backend.description}`)
  const level = o.get("level") as number | undefined
  const stages = o.get("stage") as ReadonlyArray<string> | undefined
  const weights = o.get("weights") as string | undefined
  const { net, close } = await openStandaloneNet(model, {
    phase,
    cwd: io.cwd ?? process.cwd(),
    backend,
    log,
    ...(weights !== undefined ? { weights: weights.split(",").map((w) => w.trim()).filter((w) => w !== "") } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(stages !== undefined ? { stages } : {})
  })
  try {
    // Each layer's bottom and top blobs (an in-place top is its bottom's blob, found by the same name).
    const vecs = net.graph.layers.map((gl) => ({
      gl,
      bottom: gl.bottom.map((n) => net.blobByName(n)!) as Blob[],
      top: gl.top.map((n) => net.blobByName(n)!) as Blob[]
    }))
    log.info("Performing Forward")
    const initialLoss = net.forward()
    log.info(`Initial loss: ${formatG(initialLoss)}`)
    log.info("Performing Backward")
    net.backward()
    log.info("*** Benchmark begins ***")
    log.info(`Testing for ${iterations} iterations.`)
    const layers = net.layers
    const forwardPerLayer = new Float64Array(layers.length)
    const backwardPerLayer = new Float64Array(layers.length)
    let forwardTime = 0
    let backwardTime = 0
    const totalStart = performance.now()
    for (let j = 0; j < iterations; j++) {
      const iterStart = performance.now()
      for (let i = 0; i < layers.length; i++) {
        const t = performance.now()
        layers[i]!.reshape(vecs[i]!.bottom, vecs[i]!.top)
        layers[i]!.forward(vecs[i]!.bottom, vecs[i]!.top)
        forwardPerLayer[i] += performance.now() - t
      }
      const mid = performance.now()
      forwardTime += mid - iterStart
      for (let i = layers.length - 1; i >= 0; i--) {
        const { gl, bottom, top } = vecs[i]!
        if (!gl.needBackward) continue
        const t = performance.now()
        layers[i]!.backward(top, gl.bottomNeedBackward as boolean[], bottom)
        backwardPerLayer[i] += performance.now() - t
      }
      const end = performance.now()
      backwardTime += end - mid
      log.info(`Iteration: ${j + 1} forward-backward time: ${formatG(end - iterStart)} ms.`)
    }
    const total = performance.now() - totalStart
    log.info("Average time per layer: ")
    layers.forEach((_, i) => {
      const name = net.layerNames[i]!.padStart(10)
      log.info(`${name}\tforward: ${formatG(forwardPerLayer[i]! / iterations)} ms.`)
      log.info(`${name}\tbackward: ${formatG(backwardPerLayer[i]! / iterations)} ms.`)
    })
    log.info(`Average Forward pass: ${formatG(forwardTime / iterations)} ms.`)
    log.info(`Average Backward pass: ${formatG(backwardTime / iterations)} ms.`)
    log.info(`Average Forward-Backward: ${formatG(total / iterations)} ms.`)
    log.info(`Total Time: ${formatG(total)} ms.`)
    log.info("*** Benchmark ends ***")
  } finally {
    await close()
  }
  return 0
}

export const timeCommand: CliCommand = {
  name: "time",
  summary: "benchmark a net's forward/backward per layer (caffe time: --model, --iterations)",
  run: runTime
}
