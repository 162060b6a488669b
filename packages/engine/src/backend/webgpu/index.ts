// The device-resident WebGPU execution's public surface.
export { GpuContext } from "./gpu-context.js"
export { ResidentNet, ResidentNetUnsupported } from "./resident-net.js"
export { type AdapterSummary, WebGpuUnavailable, chooseAdapter, describeAdapter, listAdapters, softwareAllowed } from "./webgpu-adapter.js"
