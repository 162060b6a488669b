import type { OptionSpec } from "./argv.js"

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
