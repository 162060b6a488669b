/**
 * `deepspark device_query` (Caffe's verb): the WebGPU adapters Dawn offers, one line each with its
 * description as Dawn reports it, and whether `--backend gpu` may train on it (software adapters only
 * with DEEPSPARK_GPU_ALLOW_SOFTWARE=1). Exit 1 when there is none.
 */
import { describeAdapter, listAdapters, softwareAllowed, WebGpuUnavailable } from "@deepspark/engine"
import type { CommandRun } from "./command.js"

export const runDeviceQuery: CommandRun = async (_argv, io) => {
  let adapters
  try {
    adapters = await listAdapters()
  } catch (e) {
    if (e instanceof WebGpuUnavailable) {
      io.stderr(e.message)
      return 1
    }
    throw e
  }
  if (adapters.length === 0) {
    io.stderr("No WebGPU adapter: Dawn found no Vulkan driver (install a GPU driver's Vulkan ICD and libvulkan1, or Mesa's lavapipe for a software one)")
    return 1
  }
  io.stdout(`Querying WebGPU adapters (Dawn): ${adapters.length}`)
  adapters.forEach(({ summary }, i) => {
    const usable = !summary.software || softwareAllowed()
    io.stdout(`${describeAdapter(i, summary)}${usable ? "" : " — not used for training unless DEEPSPARK_GPU_ALLOW_SOFTWARE=1"}`)
  })
  return 0
}
