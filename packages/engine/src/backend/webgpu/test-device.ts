/**
 * For tests: a device on whatever adapter exists, software ones included (DEEPSPARK_GPU_ALLOW_SOFTWARE=1,
 * lavapipe in CI), or the reason there is none, which the tests print before skipping.
 */
import { GpuContext } from "./gpu-context.js"
import { WebGpuUnavailable } from "./webgpu-adapter.js"

export const openTestDevice = async (): Promise<GpuContext | string> => {
  process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] = "1"
  try {
    return await GpuContext.open()
  } catch (e) {
    if (e instanceof WebGpuUnavailable) {
      const reason = `${e.message} — GPU tests skipped (scripts/install-lavapipe.sh installs Mesa's software Vulkan device)`
      console.warn(reason)
      return reason
    }
    throw e
  }
}
