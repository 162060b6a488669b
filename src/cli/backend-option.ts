import os from "node:os"
import { CliUsageError } from "./command.js"
import type { OptionSpec, ParsedOptions } from "./argv.js"

/**
 * `--backend cpu|gpu|reference`: the engine's kernels. In a file of its own, without the engine, so
 * `deepspark worker`'s supervisor process can offer it without loading the engine.
 */
export const backendOption: OptionSpec = {
  name: "backend",
  type: "string",
  value: "cpu|gpu|reference",
  description: "kernels: cpu (WebAssembly SIMD, default), gpu (device-resident WebGPU kernels on GPU 0; see -gpu), reference (plain loops)"
}

/** `--cpu-threads N`: threads for the cpu backend's large GEMMs (see `cpuThreads`). */
export const cpuThreadsOption: OptionSpec = {
  name: "cpu-threads",
  type: "integer",
  min: 1,
  value: "N",
  description: "threads for the cpu backend's large GEMMs (train: every core; test, time: 1; or DEEPSPARK_CPU_THREADS)"
}

/**
 * The cpu backend's GEMM threads: `--cpu-threads`, else DEEPSPARK_CPU_THREADS, else every core for a
 * trainer alone on the machine (as Caffe with a multi-threaded OpenBLAS) and 1 otherwise.
 */
export const cpuThreads = (p: ParsedOptions, alone: boolean, env: NodeJS.ProcessEnv = process.env): number =>
  p.number("cpu-threads") ?? defaultCpuThreads(alone, env)

/** `cpuThreads` without the flag: DEEPSPARK_CPU_THREADS, else every core for a trainer alone and 1 otherwise. */
export const defaultCpuThreads = (alone: boolean, env: NodeJS.ProcessEnv = process.env): number => {
  const fromEnv = env["DEEPSPARK_CPU_THREADS"]
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv)
    if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`DEEPSPARK_CPU_THREADS must be a whole number ≥ 1, got '${fromEnv}'`)
    return n
  }
  return alone ? os.availableParallelism() : 1
}
