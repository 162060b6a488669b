// The gpu (gpu.js) backend's public surface.
export { GpuBackend, type GpuBackendOptions, createGpuBackend } from "./gpu-backend.js"
export { type GpuJsMode, type GpuJsModeChoice, type GpuJsModeRequest, chooseGpuJsMode } from "./gpujs-runtime.js"
