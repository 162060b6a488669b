/**
 * Opening the device a command trains, tests or times on, with the start-up lines Caffe's users look
 * for: the adapter as Dawn describes it, the limits the kernels are sized against, and the kernels'
 * tile sizes (the same on every card; only their speed differs).
 */
import type { Logger } from "../../train/logger.js"
import { GpuContext, WORKGROUP } from "./gpu-context.js"
import { describeAdapter } from "./webgpu-adapter.js"
import { GEMM_TILE } from "./wgsl-kernels.js"

/** The lines that describe `ctx`'s adapter, limits and kernel tiling (index = its position among usable adapters). */
export const deviceStartupLines = (index: number, ctx: GpuContext): ReadonlyArray<string> => {
  const a = ctx.adapter
  const t = GEMM_TILE
  return [
    `Using GPU ${describeAdapter(index, a)}`,
    `GPU limits: max storage buffer binding ${(a.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, max buffer ${(a.maxBufferSize / 2 ** 20).toFixed(0)} MiB, workgroup memory ${a.maxComputeWorkgroupStorageSize} B, ${a.maxComputeInvocationsPerWorkgroup} invocations per workgroup`,
    `GPU kernels (WGSL, device-resident): GEMM tiles ${t.rows}x${t.cols}, K step ${t.depth}, ${t.threadsX}x${t.threadsY} threads of ${t.perThread}x${t.perThread} outputs; elementwise, convolution and pooling kernels ${WORKGROUP} threads per workgroup`
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
