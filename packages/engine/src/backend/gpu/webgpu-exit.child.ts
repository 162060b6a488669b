// Child of webgpu-exit.test.ts: gpu.js kernels on webgpu (software adapters allowed), one GEMM, then the
// process ends WITHOUT destroying the backend — what a command that forgets to clean up does.
import { createGpuBackend } from "./gpu-backend.js"

const gpu = await createGpuBackend({ mode: "webgpu", env: { ...process.env, DEEPSPARK_GPU_ALLOW_SOFTWARE: "1" } })
const A = new Float32Array(64).fill(1)
const C = new Float32Array(64)
gpu.gemm(false, false, 8, 8, 8, 1, A, 0, A, 0, 0, C, 0)
console.log(`gemm ${C[0]}`)
