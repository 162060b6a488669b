import type { Backend } from "../backend/backend.js"
import { createCpuBackend } from "../backend/cpu/cpu-backend.js"
import { referenceBackend } from "../backend/reference.js"
import type { Logger } from "./logger.js"
import { silentLogger } from "./logger.js"

export type BackendName = "cpu" | "gpu" | "reference"

export interface BackendChoiceOptions {
  /**
   * Threads for the cpu backend's large GEMMs (default 1): more only for a trainer that has the machine
   * to itself — the trainers of a distributed run each take one core.
   */
  readonly cpuThreads?: number
}

/**
 * The kernels a command runs on: `cpu` (WebAssembly SIMD; the default, falling back to `reference`
 * with a warning when the runtime has no SIMD), `gpu` (gpu.js kernels) or `reference` (plain loops, the
 * correctness oracle).
 */
export const chooseBackend = async (
  name: string | undefined,
  log: Logger = silentLogger,
  options: BackendChoiceOptions = {}
): Promise<Backend> => {
  if (name === "reference") return referenceBackend
  // gpu.js loads only when asked for.
  if (name === "gpu") return (await import("../backend/gpu/gpu-backend.js")).createGpuBackend()
  if (name !== undefined && name !== "cpu") throw new Error(`unknown backend '${name}' (known: cpu, gpu, reference)`)
  try {
    return await createCpuBackend(options.cpuThreads !== undefined ? { threads: options.cpuThreads } : {})
  } catch (e) {
    if (name === "cpu") throw e
    log.warn(`cpu backend unavailable (${(e as Error).message}); using the reference backend`)
    return referenceBackend
  }
}
