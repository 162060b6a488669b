/**
 * `npm run bench:gpu`: the device-resident WebGPU execution (packages/engine/src/backend/webgpu) against
 * the `cpu` backend in the same run, for a fresh machine with an NVIDIA GPU (a few minutes):
 *
 * 1. Looks for an NVIDIA GPU (nvidia-smi, /proc/driver/nvidia). With one, makes Dawn's Vulkan backend
 *    loadable: the Vulkan loader from apt-get (root) or from a libvulkan1 .deb fetched beforehand
 *    (DEEPSPARK_LIBVULKAN_DEB=path: unpacked, then this script re-runs itself with LD_LIBRARY_PATH), and
 *    the NVIDIA ICD from /usr/local/nvidia/share/vulkan/icd.d or /usr/share/vulkan/icd.d (or a manifest
 *    written for libGLX_nvidia.so.0). Without one it runs on whatever adapter Dawn offers, software
 *    ones included (lavapipe), with smaller sizes: correctness-class numbers only.
 * 2. Prints the adapter and its limits, then per net (LeNet batch 64, CIFAR-10 quick batch 100, AlexNet's
 *    training net at batch 10 where its layers are on the device) the training-iteration time on the
 *    device and on `cpu`, the ratio, and per-layer device times; then both GEMMs' GFLOPS (4096³ on a GPU).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parsePrototxt, readNetPrototxtSync } from "@deepspark/caffe"
import { Net, referenceBackend } from "@deepspark/engine"
import { timeTraining } from "./lenet.js"
import { createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"
import { GpuContext } from "../packages/engine/src/backend/webgpu/gpu-context.js"
import { deviceStartupLines } from "../packages/engine/src/backend/webgpu/open-gpu-device.js"
import { ResidentNet, ResidentNetUnsupported } from "../packages/engine/src/backend/webgpu/resident-net.js"
import * as K from "../packages/engine/src/backend/webgpu/wgsl-kernels.js"
import { updateSettingsFrom } from "../packages/engine/src/solvers/update-settings.js"

const timingDir = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared"), "caffe/reference/timing")

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
    } else notes.push("libvulkan.so.1 missing and cannot install it (needs root + apt-get, or DEEPSPARK_LIBVULKAN_DEB): WebGPU (Dawn) cannot load Vulkan")
  } else notes.push("Vulkan loader present")
  const icdDirs = ["/usr/local/nvidia/share/vulkan/icd.d", "/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
  const nvidiaIcd = icdDirs.map((d) => path.join(d, "nvidia_icd.json")).find((f) => existsSync(f))
  if (nvidiaIcd && !process.env["VK_ICD_FILENAMES"]) {
    process.env["VK_ICD_FILENAMES"] = nvidiaIcd
    notes.push(`NVIDIA Vulkan ICD: ${nvidiaIcd}`)
  }
  const hasNvidiaIcd = nvidiaIcd !== undefined
  if (!hasNvidiaIcd && !process.env["VK_ICD_FILENAMES"] && hasLib("libGLX_nvidia.so.0")) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "vk-icd-")), "nvidia_icd.json")
    writeFileSync(file, JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: "libGLX_nvidia.so.0", api_version: "1.3.0" } }))
    process.env["VK_ICD_FILENAMES"] = file
    notes.push(`no NVIDIA Vulkan ICD manifest: using ${file} (libGLX_nvidia.so.0)`)
  }
  return notes
}

/** A libvulkan1 .deb fetched beforehand: unpacks it and re-runs this script with the loader on LD_LIBRARY_PATH. */
const loaderFromDeb = (): boolean => {
  const deb = process.env["DEEPSPARK_LIBVULKAN_DEB"]
  if (!deb || hasLib("libvulkan.so.1") || process.env["DEEPSPARK_LIBVULKAN_UNPACKED"]) return false
  const dir = mkdtempSync(path.join(os.tmpdir(), "libvulkan-"))
  if (run("dpkg-deb", ["-x", deb, dir]) === undefined) return false
  const lib = path.join(dir, "usr/lib/x86_64-linux-gnu")
  console.log(`bench:gpu: Vulkan loader unpacked from ${deb} into ${lib}; re-running with LD_LIBRARY_PATH`)
  const env = { ...process.env, LD_LIBRARY_PATH: [lib, process.env["LD_LIBRARY_PATH"]].filter(Boolean).join(":"), DEEPSPARK_LIBVULKAN_UNPACKED: "1" }
  const child = spawnSync(process.execPath, process.argv.slice(1), { stdio: "inherit", env })
  process.exitCode = child.status ?? 1
  return true
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1))

/** Median device training-iteration time (clear, forward, backward, SGD, loss read back) within a budget. */
const timeResident = async (ctx: GpuContext, file: string, seconds: number) => {
  const net = new Net(readNetPrototxtSync(path.join(timingDir, file)), { state: { phase: "TRAIN" }, backend: referenceBackend })
  const dev = new ResidentNet(ctx, net)
  const settings = updateSettingsFrom(parsePrototxt("SolverParameter", `base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "fixed"`))
  const t0 = performance.now()
  await dev.trainIteration(settings, 0.01) // pipelines compile here
  const warmMs = performance.now() - t0
  const iterations = Math.max(2, Math.min(50, Math.floor((seconds * 1000) / Math.max(warmMs, 1))))
  const wall: number[] = []
  let loss = 0
  ctx.resetCounters()
  for (let i = 0; i < iterations; i++) {
    const t = performance.now()
    loss = await dev.trainIteration(settings, 0.01)
    wall.push(performance.now() - t)
  }
  const readPerIteration = ctx.bytesRead / iterations
  const writtenPerIteration = ctx.bytesWritten / iterations
  const layers = await dev.timeLayers()
  return { medianMs: median(wall), iterations, loss, warmMs, readPerIteration, writtenPerIteration, layers, pipelines: ctx.pipelineCount }
}

/** GFLOPS of a WGSL GEMM (the workgroup-tiled one, or the one without barriers) on an n³ product (median of a few runs after one warm-up). */
const gemmGflops = async (ctx: GpuContext, n: number, software: boolean): Promise<number> => {
  const a = ctx.buffer(n * n)
  const b = ctx.buffer(n * n)
  const c = ctx.buffer(n * n)
  const fill = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5)
  ctx.write(a, fill)
  ctx.write(b, fill)
  const g: K.GemmShape = { M: n, N: n, K: n, transA: false, transB: false, aOffset: 0, bOffset: 0, cOffset: 0, accumulate: false }
  const shape = ctx.uniform(32)
  ctx.write(shape, K.gemmUniform(g))
  const kernel = K.gemmFor(software)
  const d = ctx.dispatchGroups(kernel.source(g), [{ buffer: a, access: "read" }, { buffer: b, access: "read" }, { buffer: c, access: "rw" }, { buffer: shape, access: "uniform" }], ...kernel.groups(g))
  ctx.run(d)
  await ctx.finish()
  const runs: number[] = []
  for (let r = 0; r < 3; r++) {
    const t = performance.now()
    ctx.run(d)
    await ctx.finish()
    runs.push(performance.now() - t)
  }
  return (2 * n ** 3) / (median(runs) / 1000) / 1e9
}

export async function benchLenetGpu(): Promise<void> {
  if (loaderFromDeb()) return
  const started = performance.now()
  const gpus = nvidiaGpus()
  const seconds = Number(process.env["DEEPSPARK_BENCH_SECONDS"] ?? 8)
  if (gpus) {
    console.log(`bench:gpu: ${gpus.split("\n").join("; ")}`)
    for (const note of prepareVulkan()) console.log(`  ${note}`)
  } else {
    console.log("bench:gpu: no NVIDIA GPU here; running on whatever adapter Dawn offers (software ones allowed), smaller sizes")
    process.env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] = "1"
  }
  const ctx = await GpuContext.open()
  const a = ctx.adapter
  const software = a.software
  console.log(`adapter: ${a.description} (vendor ${a.vendor}, architecture ${a.architecture}, device ${a.device}${software ? ", software" : ""})`)
  console.log(`  limits: storage buffer ${(a.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, buffer ${(a.maxBufferSize / 2 ** 20).toFixed(0)} MiB, workgroup memory ${a.maxComputeWorkgroupStorageSize} B, ${a.maxComputeInvocationsPerWorkgroup} invocations per workgroup`)
  console.log(`  ${deviceStartupLines(0, ctx)[2]}`)
  const cpu = await createCpuBackend()
  console.log(`cpu backend: ${cpu.description}; machine load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}, ${os.cpus().length} cores`)
  const nets = [
    { id: "lenet", label: "LeNet", file: "lenet_dummy.prototxt", batch: 64 },
    { id: "cifar10", label: "CIFAR-10 quick", file: "cifar10_quick_dummy.prototxt", batch: 100 },
    { id: "alexnet", label: "AlexNet (train, batch 10)", file: "alexnet_dummy_train_b10.prototxt", batch: 10 }
  ]
  for (const n of software ? nets.slice(0, 1) : nets) {
    let g
    try {
      g = await timeResident(ctx, n.file, seconds)
    } catch (e) {
      if (e instanceof ResidentNetUnsupported) {
        console.log(`${n.label}: not on the device: ${e.message}`)
        continue
      }
      throw e
    }
    const c = timeTraining(cpu, n, seconds)
    console.log(`${n.label} (batch ${n.batch}):`)
    console.log(`  gpu  ${fmt(g.medianMs)} ms/iter median, ${((n.batch * 1000) / g.medianMs).toFixed(0)} images/s, ${g.iterations} iterations (first ${fmt(g.warmMs)} ms with ${g.pipelines} pipelines compiled), loss ${g.loss.toFixed(3)}; per iteration ${g.readPerIteration} B read back, ${(g.writtenPerIteration / 1024).toFixed(0)} KiB written (the batch + solver rates)`)
    console.log(`  cpu  ${fmt(c.medianMs)} ms/iter median, ${((n.batch * 1000) / c.medianMs).toFixed(0)} images/s, ${c.iterations} iterations`)
    console.log(`  gpu is ${(c.medianMs / g.medianMs).toFixed(2)}× the cpu backend's speed`)
    console.log("  device per layer (forward/backward ms, each layer submitted alone): " + g.layers.map((l) => `${l.name} ${fmt(l.forwardMs)}/${fmt(l.backwardMs)}`).join(", "))
  }
  const size = software ? 512 : 4096
  for (const variant of [false, true]) console.log(`GEMM ${size}³ (${K.gemmFor(variant).name}${variant === software ? ", this adapter's" : ""}): ${(await gemmGflops(ctx, size, variant)).toFixed(1)} GFLOPS`)
  console.log(`bench:gpu done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  ctx.destroy()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchLenetGpu()
