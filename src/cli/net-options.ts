/**
 * The options `deepspark test` and `deepspark time` share — Caffe's `-model -weights -iterations -level
 * -stage` plus the backend — defined once, and the one way both open the net they name.
 */
import { chooseBackend, GlogLogger, openGpuDevice, openStandaloneNet, type GpuContext, type StandaloneNet } from "@deepspark/engine"
import type { OptionSpec, ParsedOptions } from "./argv.js"
import { backendOption, cpuThreads, cpuThreadsOption } from "./backend-option.js"
import { CliUsageError } from "./command.js"
import { gpuOption, gpuRequest } from "./gpu-option.js"
import { applyMaxMemory, maxMemoryOption } from "./memory-option.js"
import type { CliIo } from "./command.js"

/** `what` says what the iterations count and whether weights are required, per command. */
export const standaloneNetOptions = (what: { readonly iterations: string; readonly weights: string }): ReadonlyArray<OptionSpec> => [
  { name: "model", type: "string", value: "FILE", description: "the net prototxt (required)" },
  { name: "weights", type: "string", value: "A.caffemodel[,B...]", description: what.weights },
  { name: "iterations", type: "integer", min: 1, value: "N", description: `${what.iterations} (default 50)` },
  { name: "level", type: "integer", value: "N", description: "NetState level" },
  { name: "stage", type: "strings", value: "NAME", description: "add a NetState stage" },
  backendOption,
  gpuOption,
  cpuThreadsOption,
  maxMemoryOption
]

/** `-weights a.caffemodel,b.caffemodel` → the files, in order. */
export const weightFiles = (list: string): string[] => list.split(",").map((w) => w.trim()).filter((w) => w !== "")

/**
 * Opens `model` as Caffe's Net(model, phase, level, stages) with the options' level, stages, weights and
 * backend (logging the backend chosen); `iterations` is the options' count (default 50).
 */
export const openNetFromOptions = async (
  model: string,
  p: ParsedOptions,
  io: CliIo,
  log: GlogLogger,
  phase: "TRAIN" | "TEST"
): Promise<{ readonly iterations: number; readonly device: GpuContext | undefined } & StandaloneNet> => {
  applyMaxMemory(p)
  const gpu = gpuRequest(p.string("gpu"), p.string("backend"))
  if (gpu.kind === "all" || (gpu.kind === "list" && gpu.indices.length > 1)) throw new CliUsageError("this command runs on one GPU: give -gpu N")
  // On the GPU the host net runs only the source layers (cpu kernels); every other layer runs on the device.
  const backend = await chooseBackend(gpu.kind === "list" ? "cpu" : p.string("backend"), log, { cpuThreads: cpuThreads(p, false) })
  let device: GpuContext | undefined
  let opened: Awaited<ReturnType<typeof openStandaloneNet>>
  try {
    device = gpu.kind === "list" ? await openGpuDevice(gpu.indices[0]!, log) : undefined
    log.info(device ? `Use backend gpu: device-resident WebGPU kernels on ${device.adapter.description}` : `Use backend ${backend.name}: ${backend.description}`)
    const weights = p.string("weights")
    const level = p.number("level")
    const stages = p.strings("stage")
    opened = await openStandaloneNet(model, {
      phase,
      cwd: io.cwd ?? process.cwd(),
      backend,
      log,
      ...(weights !== undefined ? { weights: weightFiles(weights) } : {}),
      ...(level !== undefined ? { level } : {}),
      ...(stages.length > 0 ? { stages } : {})
    })
  } catch (e) {
    device?.destroy()
    await backend.dispose?.()
    throw e
  }
  return {
    net: opened.net,
    device,
    close: async () => {
      try {
        await opened.close()
      } finally {
        device?.destroy()
        await backend.dispose?.()
      }
    },
    iterations: p.number("iterations") ?? 50
  }
}
