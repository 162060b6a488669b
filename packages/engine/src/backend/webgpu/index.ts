// The device-resident WebGPU execution's public surface.
export { GpuContext } from "./gpu-context.js"
export { ResidentNet, ResidentNetUnsupported } from "./resident-net.js"
export { type AdapterSummary, WebGpuUnavailable, chooseAdapter, describeAdapter, listAdapters, softwareAllowed, usableAdapters } from "./webgpu-adapter.js"
export { ResidentSolverNet } from "./resident-solver-net.js"
export { deviceStartupLines, openGpuDevice } from "./open-gpu-device.js"
