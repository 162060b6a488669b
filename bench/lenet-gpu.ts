/**
 * `npm run bench:gpu`: the LeNet and CIFAR-10 quick training benchmarks on the `gpu` and `cpu` backends,
 * with the ratio, for a machine with an NVIDIA GPU (a few minutes at most).
 *
 * 1. Looks for an NVIDIA GPU (nvidia-smi, /proc/driver/nvidia). None: says so, and still compares the
 *    gpu backend on gpu.js's webasm (CPU) path with the cpu backend on LeNet, with a short time budget.
 * 2. With one: makes Dawn's Vulkan backend loadable when it can — installs the Vulkan loader (libvulkan1)
 *    with apt-get when missing and running as root, and points the loader at the NVIDIA driver's ICD
 *    (libGLX_nvidia.so.0) when the driver ships no ICD manifest (common in containers) — before the gpu
 *    backend's auto choice probes Dawn for an adapter.
 * 3. Runs bench/lenet.ts's timing for gpu and cpu on both nets and prints gpu/cpu.
 *
 * What runs on the GPU: the gpu backend's auto order — gpu.js webgpu (in a worker, called synchronously)
 * when Dawn offers a hardware adapter; headlessgl when opted in (DEEPSPARK_GPU_HEADLESSGL=1 with DISPLAY
 * set and the native `gl` module built — `npm rebuild gl`, needs X/GL headers, several minutes); else
 * webasm. The npm `webgpu` that gpu.js pulls in (0.2.9) needs glibc 2.38: on Debian 12 point
 * DEEPSPARK_WEBGPU_MODULE at a copy of webgpu 0.3.10 (e.g. `npm pack webgpu@0.3.10`, unpacked).
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { type IterationTiming, timeTraining } from "./lenet.js"
import { createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"
import { createGpuBackend } from "../packages/engine/src/backend/gpu/gpu-backend.js"
import type { GpuJsModeRequest } from "../packages/engine/src/backend/gpu/gpujs-runtime.js"

const run = (cmd: string, args: string[]): string | undefined => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 })
  } catch {
    return undefined
  }
}

const nvidiaGpus = (): string | undefined => {
  const list = run("nvidia-smi", ["-L"])?.trim()
  if (list) return list
  return existsSync("/proc/driver/nvidia/version") ? "NVIDIA driver present (/proc/driver/nvidia/version), nvidia-smi unavailable" : undefined
}

const hasLib = (name: string): boolean => (run("ldconfig", ["-p"]) ?? "").includes(name)

/** Makes the Vulkan loader and the NVIDIA ICD visible to Dawn where possible; returns what was done. */
const prepareVulkan = (): string[] => {
  const notes: string[] = []
  if (!hasLib("libvulkan.so.1")) {
    const root = process.getuid?.() === 0
    if (root && run("apt-get", ["--version"])) {
      notes.push("libvulkan.so.1 missing: apt-get install -y libvulkan1")
      run("apt-get", ["update", "-qq"])
      run("apt-get", ["install", "-y", "-qq", "libvulkan1"])
      notes.push(hasLib("libvulkan.so.1") ? "Vulkan loader installed" : "Vulkan loader install failed (offline?)")
    } else notes.push("libvulkan.so.1 missing and cannot install it (needs root + apt-get): WebGPU (Dawn) cannot load Vulkan")
  } else notes.push("Vulkan loader present")
  const icdDirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
  const hasNvidiaIcd = icdDirs.some((d) => existsSync(path.join(d, "nvidia_icd.json")))
  if (!hasNvidiaIcd && !process.env["VK_ICD_FILENAMES"] && hasLib("libGLX_nvidia.so.0")) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "vk-icd-")), "nvidia_icd.json")
    writeFileSync(file, JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: "libGLX_nvidia.so.0", api_version: "1.3.0" } }))
    process.env["VK_ICD_FILENAMES"] = file
    notes.push(`no NVIDIA Vulkan ICD manifest: using ${file} (libGLX_nvidia.so.0)`)
  }
  return notes
}

export async function benchLenetGpu(): Promise<void> {
  const started = performance.now()
  const gpus = nvidiaGpus()
  let seconds = Number(process.env["DEEPSPARK_BENCH_SECONDS"] ?? 8)
  if (!gpus) {
    console.log(
      "bench:gpu: NO NVIDIA GPU on this machine (nvidia-smi not found, no /proc/driver/nvidia). Nothing here can run on a GPU;\n" +
        "  comparing the gpu backend on gpu.js's webasm (CPU) path with the cpu backend on LeNet only instead (CIFAR-10 quick\n" +
        "  on webasm takes minutes), with a short time budget."
    )
    seconds = Math.min(seconds, 3)
  } else {
    console.log(`bench:gpu: ${gpus.split("\n").join("; ")}`)
    for (const note of prepareVulkan()) console.log(`  ${note}`)
  }
  const gpu = await createGpuBackend({ mode: (process.env["DEEPSPARK_GPU_MODE"] ?? "auto") as GpuJsModeRequest })
  const cpu = await createCpuBackend()
  // The auto choice probes Dawn for a WebGPU adapter (in a worker) and says what it picked and why.
  console.log(`gpu backend choice: ${gpu.description}`)
  const nets = [
    { id: "lenet", label: "LeNet", file: "lenet_dummy.prototxt", batch: 64 },
    { id: "cifar10", label: "CIFAR-10 quick", file: "cifar10_quick_dummy.prototxt", batch: 100 }
  ]
  const line = (t: IterationTiming) =>
    `${t.backend.padEnd(4)} ${t.net.padEnd(15)} median ${t.medianMs.toFixed(1)} ms/iter (CPU ${t.cpuMs.toFixed(1)} ms), ${((t.batch * 1000) / t.medianMs).toFixed(0)} images/s, ${t.iterations} iterations`
  for (const n of gpus ? nets : nets.slice(0, 1)) {
    const c = timeTraining(cpu, n, seconds)
    console.log(line(c))
    const g = timeTraining(gpu, n, seconds)
    console.log(line(g))
    console.log(`  ${n.label}: gpu takes ${(g.medianMs / c.medianMs).toFixed(1)}× the cpu backend's time per iteration`)
  }
  console.log(`gpu backend: ${gpu.description}`)
  console.log(`cpu backend: ${cpu.description}`)
  console.log(`bench:gpu done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  gpu.destroy()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchLenetGpu()
