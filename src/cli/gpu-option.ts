import type { OptionSpec } from "./argv.js"
import { CliUsageError } from "./command.js"

/**
 * Caffe's `-gpu N` (`-gpu 0,1`, `-gpu all`): the WebGPU adapters to train on, by their index among the
 * usable ones (`deepspark device_query`). Any of them means `--backend gpu`. Without the engine, like
 * backend-option.ts.
 */
export const gpuOption: OptionSpec = {
  name: "gpu",
  type: "string",
  value: "N[,M...]|all",
  description: "run on GPU N (device-resident WebGPU kernels, as --backend gpu); train: several or all → one trainer per GPU"
}

/** The adapters asked for: none (not on the GPU), a list of indices, or all of them. */
export type GpuRequest = { readonly kind: "none" } | { readonly kind: "list"; readonly indices: ReadonlyArray<number> } | { readonly kind: "all" }

/** Reads `-gpu` and `--backend`: `--backend gpu` alone is GPU 0; `-gpu` with another backend is a mistake. */
export const gpuRequest = (gpu: string | undefined, backend: string | undefined): GpuRequest => {
  if (gpu === undefined) return backend === "gpu" ? { kind: "list", indices: [0] } : { kind: "none" }
  if (backend !== undefined && backend !== "gpu") throw new CliUsageError(`-gpu ${gpu} runs on the gpu backend, not --backend ${backend}`)
  if (gpu.trim().toLowerCase() === "all") return { kind: "all" }
  const indices = gpu.split(",").map((s) => s.trim())
  if (indices.some((s) => !/^\d+$/.test(s))) throw new CliUsageError(`-gpu takes a device index, a comma-separated list of them or 'all', got '${gpu}'`)
  return { kind: "list", indices: indices.map(Number) }
}
