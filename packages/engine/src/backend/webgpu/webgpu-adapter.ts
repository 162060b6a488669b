/// <reference types="@webgpu/types" />
/**
 * WebGPU adapters through the npm `webgpu` package (Dawn, pinned 0.3.10: its Linux binary ships in the
 * package and loads on Debian 12's glibc). Lists what Dawn offers, refuses software adapters (lavapipe,
 * llvmpipe, SwiftShader) for training unless DEEPSPARK_GPU_ALLOW_SOFTWARE=1, and opens a device with the
 * adapter's own limits (the defaults cap storage buffers at 128 MiB).
 */
import { Data } from "effect"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)

export class WebGpuUnavailable extends Data.TaggedError("WebGpuUnavailable")<{ readonly reason: string }> {
  override get message(): string {
    return `gpu backend: no usable WebGPU adapter: ${this.reason}`
  }
}

/** One adapter as Dawn describes it. */
export interface AdapterSummary {
  readonly vendor: string
  readonly architecture: string
  readonly device: string
  readonly description: string
  /** Dawn's own flag, or a software rasteriser recognised by name. */
  readonly software: boolean
  readonly maxStorageBufferBindingSize: number
  readonly maxBufferSize: number
  readonly maxComputeWorkgroupStorageSize: number
  readonly maxComputeInvocationsPerWorkgroup: number
}

interface WebGpuModule {
  create(flags: ReadonlyArray<string>): GPU
  globals: Record<string, unknown>
}

let loaded: WebGpuModule | undefined

/** The `webgpu` module (DEEPSPARK_WEBGPU_MODULE names another copy); its globals (GPUBufferUsage, …) installed. */
export const loadWebGpu = (env: NodeJS.ProcessEnv = process.env): WebGpuModule => {
  if (loaded) return loaded
  let mod: WebGpuModule
  try {
    mod = require(require.resolve(env["DEEPSPARK_WEBGPU_MODULE"] ?? "webgpu")) as WebGpuModule
  } catch (e) {
    throw new WebGpuUnavailable({ reason: `the npm webgpu package does not load (${firstLine(e)})` })
  }
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true })
  loaded = mod
  return mod
}

let instance: GPU | undefined
/** One Dawn instance per process (each `create` starts its own; they are never torn down before exit). */
const gpuInstance = (env: NodeJS.ProcessEnv): GPU => (instance ??= loadWebGpu(env).create([]))

const softwareName = /llvmpipe|lavapipe|swiftshader|software/i

export const summarize = (adapter: GPUAdapter): AdapterSummary => {
  const info = adapter.info as GPUAdapterInfo & { readonly isFallbackAdapter?: boolean }
  const name = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: info.isFallbackAdapter === true || softwareName.test(name),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup
  }
}

/**
 * The adapters Dawn offers, distinct by description: WebGPU has no enumeration call, so each power
 * preference and the fallback adapter are asked for in turn.
 */
export const listAdapters = async (env: NodeJS.ProcessEnv = process.env): Promise<ReadonlyArray<{ readonly adapter: GPUAdapter; readonly summary: AdapterSummary }>> => {
  const gpu = gpuInstance(env)
  const found: Array<{ adapter: GPUAdapter; summary: AdapterSummary }> = []
  const options: ReadonlyArray<GPURequestAdapterOptions> = [{ powerPreference: "high-performance" }, { powerPreference: "low-power" }, { forceFallbackAdapter: true }]
  for (const o of options) {
    const adapter = await gpu.requestAdapter(o)
    if (!adapter) continue
    const summary = summarize(adapter)
    if (!found.some((f) => f.summary.description === summary.description && f.summary.device === summary.device)) found.push({ adapter, summary })
  }
  return found
}

export const softwareAllowed = (env: NodeJS.ProcessEnv = process.env): boolean => env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] === "1"

/** The adapters training may use, hardware ones first; software ones only when allowed. None: WebGpuUnavailable, saying why. */
export const usableAdapters = async (env: NodeJS.ProcessEnv = process.env): Promise<ReadonlyArray<{ readonly adapter: GPUAdapter; readonly summary: AdapterSummary }>> => {
  const all = await listAdapters(env)
  if (all.length === 0) throw new WebGpuUnavailable({ reason: "Dawn offers no adapter (no Vulkan loader or driver ICD; scripts/install-lavapipe.sh installs a software one)" })
  const usable = [...all.filter((a) => !a.summary.software), ...(softwareAllowed(env) ? all.filter((a) => a.summary.software) : [])]
  if (usable.length === 0) {
    throw new WebGpuUnavailable({ reason: `only software adapters (${all.map((a) => a.summary.description).join("; ")}); set DEEPSPARK_GPU_ALLOW_SOFTWARE=1 to train on them anyway` })
  }
  return usable
}

/** Adapter `index` of usableAdapters. */
export const chooseAdapter = async (index = 0, env: NodeJS.ProcessEnv = process.env): Promise<{ readonly adapter: GPUAdapter; readonly summary: AdapterSummary }> => {
  const usable = await usableAdapters(env)
  const chosen = usable[index]
  if (!chosen) throw new WebGpuUnavailable({ reason: `adapter ${index} requested, ${usable.length} usable` })
  return chosen
}

/** A device with the adapter's largest buffer limits (what big layers need). */
export const openDevice = async (adapter: GPUAdapter): Promise<GPUDevice> =>
  adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage
    }
  })

/** One line per adapter, as `deepspark device_query` prints it. */
export const describeAdapter = (index: number, s: AdapterSummary): string =>
  `Device id ${index}: ${s.description} (vendor ${s.vendor || "?"}, architecture ${s.architecture || "?"}, device ${s.device || "?"}${s.software ? ", software" : ""}; max storage buffer ${(s.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, workgroup memory ${s.maxComputeWorkgroupStorageSize} B)`

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split("\n")[0]!.slice(0, 160)
