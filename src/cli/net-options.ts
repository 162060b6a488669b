/**
 * The options `deepspark test` and `deepspark time` share — Caffe's `-model -weights -iterations -level
 * -stage` plus the backend — defined once, and the one way both open the net they name.
 */
import { chooseBackend, GlogLogger, openStandaloneNet, type StandaloneNet } from "@deepspark/engine"
import type { OptionSpec, ParsedOptions } from "./argv.js"
import { backendOption, cpuThreads, cpuThreadsOption } from "./backend-option.js"
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
): Promise<{ readonly iterations: number } & StandaloneNet> => {
  applyMaxMemory(p)
  const backend = await chooseBackend(p.string("backend"), log, { cpuThreads: cpuThreads(p, false) })
  log.info(`Use backend ${backend.name}: ${backend.description}`)
  const weights = p.string("weights")
  const level = p.number("level")
  const stages = p.strings("stage")
  const opened = await openStandaloneNet(model, {
    phase,
    cwd: io.cwd ?? process.cwd(),
    backend,
    log,
    ...(weights !== undefined ? { weights: weightFiles(weights) } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(stages.length > 0 ? { stages } : {})
  })
  const close = async (): Promise<void> => {
    try {
      await opened.close()
    } finally {
      await backend.dispose?.()
    }
  }
  return { net: opened.net, close, iterations: p.number("iterations") ?? 50 }
}
