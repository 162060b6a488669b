/**
 * The gpu.js side of the `gpu` backend: picks gpu.js's backend explicitly (never its automatic choice,
 * which silently prefers headlessgl or webgpu whenever they load), compiles kernels once per shape and
 * returns every result as one flat Float32Array.
 */
import { createRequire } from "node:module"

/** gpu.js backends the gpu backend runs on (webgpu through a synchronous worker bridge). */
export type GpuJsMode = "webgpu" | "headlessgl" | "webasm"

/** `auto` picks in the order webgpu → headlessgl → webasm (see chooseGpuJsMode). */
export type GpuJsModeRequest = GpuJsMode | "auto"

/** Runs a kernel (compiled on first use under `key`) and returns its output as one flat Float32Array. */
export interface KernelRunner {
  readonly mode: string
  /** The gpu.js kernel class that actually ran (known after the first call), e.g. "WebAssemblyKernel". */
  readonly ranOn: string | undefined
  readonly kernelCount: number
  run(key: string, spec: () => KernelSpec, args: ReadonlyArray<unknown>): Float32Array
  destroy(): void
}

// The slice of gpu.js's API used here (its bundled index.d.ts is not NodeNext-friendly).
interface GpuJsKernelInstance {
  readonly constructor: { readonly name: string }
  readonly _lastRunPath?: string
  readonly fallbackReason?: string | null
  _shapeOutput?: (data: Float32Array, output: number[], components: number) => unknown
}
export interface GpuJsKernel {
  (...args: unknown[]): unknown
  readonly kernel?: GpuJsKernelInstance
  destroy(removeCanvasReferences?: boolean): void
}
interface GpuJsInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel
  destroy(): Promise<void> | void
}
interface GpuJsModule {
  readonly GPU: new (settings: { mode: string }) => GpuJsInstance
}

const require = createRequire(import.meta.url)

export interface GpuJsModeChoice {
  readonly mode: GpuJsMode
  /** Why this mode, and why not the ones above it (for Backend.description and logs). */
  readonly reasons: ReadonlyArray<string>
  /** The kernels, when choosing already built them (the webgpu worker that answered the probe). */
  readonly kernels?: KernelRunner
}

/**
 * Explicit backend order (gpu.js's own automatic choice is never used):
 * - webgpu: when the npm `webgpu` package (Dawn, pinned 0.3.10; DEEPSPARK_WEBGPU_MODULE names another
 *   copy) loads in a worker and offers a hardware adapter (software adapters — lavapipe, llvmpipe,
 *   SwiftShader — are slower than webasm, so skipped unless DEEPSPARK_GPU_ALLOW_SOFTWARE=1);
 * - headlessgl: only with DEEPSPARK_GPU_HEADLESSGL=1 AND DISPLAY set AND the optional native `gl` module
 *   loading (npm here skips its install script, so it normally does not exist); gpu.js itself would
 *   fall back silently without a display, hence the checks;
 * - webasm: gpu.js's WebAssembly (SIMD) backend, always available in Node 20.
 */
export const chooseGpuJsMode = async (request: GpuJsModeRequest, env: NodeJS.ProcessEnv = process.env): Promise<GpuJsModeChoice> => {
  const reasons: string[] = []
  if (request === "webasm") return { mode: "webasm", reasons: ["webasm requested"] }
  if (request === "auto" || request === "webgpu") {
    const probe = await probeWebgpu(env)
    if (probe.kernels) return { mode: "webgpu", reasons: [probe.note], kernels: probe.kernels }
    if (request === "webgpu") throw new Error(`gpu backend: webgpu requested but unavailable: ${probe.note}`)
    reasons.push(`webgpu skipped: ${probe.note}`)
  }
  const glProblem = headlessglProblem(env)
  if (glProblem === undefined) return { mode: "headlessgl", reasons: [...reasons, "headlessgl opted in (DEEPSPARK_GPU_HEADLESSGL=1, DISPLAY set, gl loads)"] }
  if (request === "headlessgl") throw new Error(`gpu backend: headlessgl requested but unavailable: ${glProblem}`)
  reasons.push(`headlessgl skipped: ${glProblem}`)
  return { mode: "webasm", reasons }
}

const probeWebgpu = async (env: NodeJS.ProcessEnv): Promise<{ note: string; kernels?: KernelRunner }> => {
  if (env["DEEPSPARK_GPU_WEBGPU"] === "0") return { note: "disabled (DEEPSPARK_GPU_WEBGPU=0)" }
  let webgpuPath: string
  try {
    webgpuPath = require.resolve(env["DEEPSPARK_WEBGPU_MODULE"] ?? "webgpu")
  } catch (e) {
    return { note: `the npm webgpu package is not installed (${firstLine(e)})` }
  }
  const { WorkerGpuJsKernels } = await import("./worker-kernels.js")
  const worker = new WorkerGpuJsKernels({ mode: "webgpu", gpujsPath: require.resolve("gpu.js"), webgpuPath })
  try {
    const adapter = worker.probeAdapter()
    if (!adapter) throw new Error("Dawn offers no WebGPU adapter (no Vulkan loader / driver ICD?)")
    const name = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(" ")
    if ((adapter.fallback || /llvmpipe|lavapipe|swiftshader/i.test(name)) && env["DEEPSPARK_GPU_ALLOW_SOFTWARE"] !== "1") throw new Error(`only a software adapter (${name})`)
    return { note: `webgpu adapter ${name} (gpu.js webgpu kernels in a worker, called synchronously)`, kernels: worker }
  } catch (e) {
    worker.destroy()
    return { note: firstLine(e) }
  }
}

const headlessglProblem = (env: NodeJS.ProcessEnv): string | undefined => {
  if (env["DEEPSPARK_GPU_HEADLESSGL"] !== "1") return "not opted in (set DEEPSPARK_GPU_HEADLESSGL=1)"
  if (!env["DISPLAY"]) return "DISPLAY is not set (run under xvfb-run)"
  try {
    const createContext = require("gl") as (w: number, h: number) => unknown
    if (!createContext(1, 1)) return "the gl module loads but creates no context"
  } catch (e) {
    return `the optional native gl module does not load (${firstLine(e)})`
  }
  return undefined
}

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split("\n")[0]!.slice(0, 160)

export interface KernelSpec {
  readonly source: string
  /** Loop bounds and shape numbers, baked into the kernel. */
  readonly constants: Readonly<Record<string, number>>
  /** Number of threads (1-D). */
  readonly threads: number
  /** Values per thread: 1 (scalar) or 2 / 4 (returns Array(n)). */
  readonly components: 1 | 2 | 4
}

/** Compiled kernels keyed by op + shape; each call returns its output as one flat Float32Array. */
export class GpuJsKernels implements KernelRunner {
  private readonly gpu: GpuJsInstance
  private readonly cache = new Map<string, { readonly kernel: GpuJsKernel; readonly count: number }>()
  /** The gpu.js kernel class that actually ran (first kernel built), e.g. "WebAssemblyKernel". */
  ranOn: string | undefined

  constructor(readonly mode: "webasm" | "headlessgl") {
    const { GPU } = require("gpu.js") as GpuJsModule
    this.gpu = new GPU({ mode })
  }

  get kernelCount(): number {
    return this.cache.size
  }

  run(key: string, spec: () => KernelSpec, args: ReadonlyArray<unknown>): Float32Array {
    const entry = this.cache.get(key)
    if (entry) {
      const out = entry.kernel(...args)
      return out instanceof Float32Array && out.length === entry.count ? out : flatten(out, entry.count)
    }
    const s = spec()
    const kernel = this.gpu.createKernel(s.source, {
      output: [s.threads],
      constants: s.constants,
      returnType: s.components === 1 ? "Number" : `Array(${s.components})`,
      dynamicArguments: true,
      tactic: "precision"
    })
    const count = s.threads * s.components
    this.cache.set(key, { kernel, count })
    const out = flatten(kernel(...args), count)
    const inner = kernel.kernel
    if (inner) {
      this.ranOn ??= inner.constructor.name
      if (inner.fallbackReason) throw new Error(`gpu backend: gpu.js fell back to ${inner.constructor.name} for ${key}: ${inner.fallbackReason}`)
      // gpu.js shapes Array(n) results into one view per cell (milliseconds per call); the packed data it
      // shapes from is exactly the flat layout wanted, so keep that (gpu.js is pinned at 2.24.1).
      if (inner.constructor.name === "WebAssemblyKernel") inner._shapeOutput = (data) => data
    }
    return out
  }

  destroy(): void {
    for (const { kernel } of this.cache.values()) kernel.destroy()
    this.cache.clear()
    void this.gpu.destroy()
  }
}

/** Flattens whatever gpu.js returned (a flat array, or nested per-row / per-cell views) into count floats. */
const flatten = (out: unknown, count: number): Float32Array => {
  if (out instanceof Float32Array && out.length === count) return out
  const flat = new Float32Array(count)
  let at = 0
  const visit = (v: unknown): void => {
    if (typeof v === "number") flat[at++] = v
    else if (ArrayBuffer.isView(v)) {
      flat.set(v as Float32Array, at)
      at += (v as Float32Array).length
    } else for (const e of Array.from(v as ArrayLike<unknown>)) visit(e)
  }
  visit(out)
  if (at !== count) throw new Error(`gpu backend: kernel returned ${at} values, expected ${count}`)
  return flat
}
