/**
 * `deepspark time`: Caffe's `caffe time -model M [-iterations N]` — the average forward, backward and
 * forward-backward time of the net and of each layer, with Caffe's lines.
 */
import { formatG, GlogLogger, type Blob } from "@deepspark/engine"
import { describeOptions, helpOption, noPositionals, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliCommand, type CliIo } from "./command.js"
import { openNetFromOptions, standaloneNetOptions } from "./net-options.js"

const options: ReadonlyArray<OptionSpec> = [
  ...standaloneNetOptions({ iterations: "number of timed forward-backward passes", weights: "weights to load first (optional)" }),
  { name: "phase", type: "string", value: "TRAIN|TEST", description: "net phase (default TRAIN)" },
  helpOption
]

const help = [
  "usage: deepspark time --model FILE [--iterations N] [--phase TRAIN|TEST]",
  "",
  "Benchmarks a net as `caffe time` does (per-layer forward/backward times, glog lines on stderr).",
  "",
  ...describeOptions(options)
]

export const runTime = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const p = parseOptions(argv, options)
  if (p.flag("help")) {
    for (const l of help) io.stdout(l)
    return 0
  }
  noPositionals(p)
  const model = p.string("model")
  if (model === undefined) throw new CliUsageError("Need a model definition to time (--model FILE)")
  const phase = (p.string("phase") ?? "TRAIN").toUpperCase()
  if (phase !== "TRAIN" && phase !== "TEST") throw new CliUsageError(`--phase takes TRAIN or TEST, got '${phase}'`)
  const log = new GlogLogger((line) => io.stderr(line))
  const { net, device, close, iterations } = await openNetFromOptions(model, p, io, log, phase)
  try {
    if (device) {
      await (await import("./time-gpu.js")).timeOnDevice(net, device, iterations, log)
      return 0
    }
    // Each layer's bottom and top blobs (an in-place top is its bottom's blob, found by the same name).
    const vecs = net.graph.layers.map((gl) => ({
      gl,
      bottom: gl.bottom.map((n) => net.blobByName(n)!) as Blob[],
      top: gl.top.map((n) => net.blobByName(n)!) as Blob[]
    }))
    // How each convolution computes its forward pass (the backend chose per shape when the net was built).
    net.layers.forEach((layer, i) => {
      const method = (layer as { readonly forwardMethod?: unknown }).forwardMethod
      if (typeof method === "string") log.info(`Convolution ${net.graph.layers[i]!.name}: ${method}`)
    })
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
