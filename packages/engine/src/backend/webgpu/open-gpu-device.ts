/**
 * Opening the device a command trains, tests or times on, with the start-up lines Caffe's users look
 * for: the adapter as Dawn describes it, the limits the kernels are sized against, and the kernels'
 * tile sizes (the GEMM's chosen per adapter: without barriers on a software one).
 */
import type { Logger } from "../../train/logger.js"
import { GpuContext, WORKGROUP } from "./gpu-context.js"
import { describeAdapter } from "./webgpu-adapter.js"
import { COLUMN_LIMIT, CONV_TILE } from "./wgsl-conv-kernels.js"
import { gemmFor } from "./wgsl-kernels.js"

/** The lines that describe `ctx`'s adapter, limits and kernel tiling (index = its position among usable adapters). */
export const deviceStartupLines = (index: number, ctx: GpuContext): ReadonlyArray<string> => {
  const a = ctx.adapter
  return [
    `Using GPU ${describeAdapter(index, a)}`,
    `GPU limits: max storage buffer binding ${(a.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, max buffer ${(a.maxBufferSize / 2 ** 20).toFixed(0)} MiB, workgroup memory ${a.maxComputeWorkgroupStorageSize} B, ${a.maxComputeInvocationsPerWorkgroup} invocations per workgroup`,
    `GPU kernels (WGSL, device-resident): GEMM ${gemmFor(a.software).name}; convolution through a batched im2col column matrix (up to ${COLUMN_LIMIT / 2 ** 20} Mi floats of scratch per layer, one group) and ${CONV_TILE}x${CONV_TILE} register-tiled products, else ${CONV_TILE}x${CONV_TILE} register-tiled direct kernels; elementwise and pooling kernels ${WORKGROUP} threads per workgroup`
  ]
}

/**
 * Adapter `index` of the usable ones (hardware first; software ones only with
 * DEEPSPARK_GPU_ALLOW_SOFTWARE=1), opened and described on `log`.
 */
export const openGpuDevice = async (index: number, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<GpuContext> => {
  const ctx = await GpuContext.open(index, env)
  for (const line of deviceStartupLines(index, ctx)) log.info(line)
  return ctx
}
