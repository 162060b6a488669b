// The cpu (WebAssembly SIMD) backend's public surface.
export { CpuBackend, type CpuBackendOptions, CpuBackendUnavailable, createCpuBackend } from "./cpu-backend.js"
export { hasRelaxedSimd, hasSimd128 } from "./wasm-module.js"
