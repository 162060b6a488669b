/**
 * The gpu.js side of the `gpu` backend: picks gpu.js's backend explicitly (never its automatic choice,
 * which silently prefers headlessgl or webgpu whenever they load), compiles kernels once per shape and
 * returns every result as one flat Float32Array.
 */
import { createRequire } from "node:module"

/** gpu.js backends this engine can run its synchronous kernels on. */
export type GpuJsMode = "webasm" | "headlessgl"

/** What `auto` may pick: `webasm` always; `headlessgl` only when asked for (see chooseGpuJsMode). */
export type GpuJsModeRequest = GpuJsMode | "auto"

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
}

/**
 * Explicit backend order: webgpu → headlessgl → webasm.
 * - webgpu: gpu.js's WebGPU kernels only run asynchronously (readback is mapAsync) and the engine's
 *   Backend interface is synchronous, so it is probed and reported but never chosen.
 * - headlessgl: only with DEEPSPARK_GPU_HEADLESSGL=1 AND DISPLAY set AND the optional native `gl` module
 *   loading (npm here skips its install script, so it normally does not exist); gpu.js itself would
 *   fall back silently without a display, hence the checks.
 * - webasm: gpu.js's WebAssembly (SIMD) backend, always available in Node 20.
 */
export const chooseGpuJsMode = (request: GpuJsModeRequest, env: NodeJS.ProcessEnv = process.env): GpuJsModeChoice => {
  const reasons: string[] = []
  if (request === "webasm") return { mode: "webasm", reasons: ["webasm requested"] }
  reasons.push(webgpuNote())
  const glProblem = headlessglProblem(env)
  if (glProblem === undefined) return { mode: "headlessgl", reasons: [...reasons, "headlessgl opted in (DEEPSPARK_GPU_HEADLESSGL=1, DISPLAY set, gl loads)"] }
  if (request === "headlessgl") throw new Error(`gpu backend: headlessgl requested but unavailable: ${glProblem}`)
  reasons.push(`headlessgl skipped: ${glProblem}`)
  return { mode: "webasm", reasons }
}

const webgpuNote = (): string => {
  try {
    require("webgpu")
    return "webgpu not used: gpu.js WebGPU kernels are async-only and the Backend interface is synchronous"
  } catch (e) {
    return `webgpu not used: the npm webgpu package does not load (${firstLine(e)})`
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
export class GpuJsKernels {
  private readonly gpu: GpuJsInstance
  private readonly cache = new Map<string, { readonly kernel: GpuJsKernel; readonly count: number }>()
  /** The gpu.js kernel class that actually ran (first kernel built), e.g. "WebAssemblyKernel". */
  ranOn: string | undefined

  constructor(readonly mode: GpuJsMode) {
    const { GPU } = require("gpu.js") as GpuJsModule
    this.gpu = new GPU({ mode })
  }

  get kernelCount(): number {
    return this.cache.size
  }

  /** Runs the kernel cached under `key` (built from `spec()` on first use) on `args`. */
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
