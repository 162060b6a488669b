/**
 * gpu.js kernels hosted in a worker thread and called synchronously: the bridge that lets the synchronous
 * Backend interface use gpu.js's WebGPU backend, whose kernels only run asynchronously (readback is
 * mapAsync). The calling thread posts a request, blocks in Atomics.wait until the worker has awaited the
 * kernel and answered, then takes the answer with receiveMessageOnPort — no event-loop turn needed.
 *
 * Same `run(key, spec, args)` contract as GpuJsKernels, so GpuBackend is unchanged. Each call costs a
 * structured-clone copy of the arguments and result plus a thread hand-off (tens of µs) on top of the
 * WebGPU submit/readback (~270 µs per compute-notes.md).
 */
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from "node:worker_threads"
import type { KernelRunner, KernelSpec } from "./gpujs-runtime.js"

/** Worker source (plain JS: worker threads do not load TypeScript). */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const { mode, signal, port, gpujsPath, webgpuPath } = workerData
const flag = new Int32Array(signal)
const answer = (message) => {
  port.postMessage(message)
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
}
const flatten = (out, count) => {
  if (out instanceof Float32Array && out.length === count) return out
  const flat = new Float32Array(count)
  let at = 0
  const visit = (v) => {
    if (typeof v === "number") flat[at++] = v
    else if (ArrayBuffer.isView(v)) { flat.set(v, at); at += v.length }
    else for (const e of Array.from(v)) visit(e)
  }
  visit(out)
  if (at !== count) throw new Error("kernel returned " + at + " values, expected " + count)
  return flat
}
let gpu
const kernels = new Map()
const setUp = () => {
  if (mode === "webgpu") {
    const webgpu = require(webgpuPath)
    if (webgpu.globals) Object.assign(globalThis, webgpu.globals)
    Object.defineProperty(globalThis, "navigator", { value: { gpu: webgpu.create([]) }, configurable: true })
  }
  const { GPU } = require(gpujsPath)
  gpu = new GPU({ mode })
}
parentPort.on("message", async (request) => {
  try {
    if (request.destroy) {
      for (const { kernel } of kernels.values()) kernel.destroy()
      if (gpu) await gpu.destroy()
      delete globalThis.navigator
      answer({ ok: true })
      return
    }
    if (request.probe) {
      // Which WebGPU adapter Dawn offers (null: none), before any kernel is built.
      const webgpu = require(webgpuPath)
      const adapter = await webgpu.create([]).requestAdapter()
      const info = adapter && adapter.info ? adapter.info : null
      answer({ ok: true, adapter: adapter ? { vendor: info && info.vendor, architecture: info && info.architecture, device: info && info.device, description: info && info.description, fallback: !!adapter.isFallbackAdapter } : null })
      return
    }
    if (!gpu) setUp()
    let entry = kernels.get(request.key)
    if (!entry) {
      const s = request.spec
      const kernel = gpu.createKernel(s.source, {
        output: [s.threads], constants: s.constants, returnType: s.components === 1 ? "Number" : "Array(" + s.components + ")",
        dynamicArguments: true, tactic: "precision"
      })
      entry = { kernel, count: s.threads * s.components }
      kernels.set(request.key, entry)
    }
    const out = flatten(await entry.kernel(...request.args), entry.count)
    const inner = entry.kernel.kernel
    answer({ ok: true, out, ranOn: inner ? inner.constructor.name : undefined, fallbackReason: inner ? inner.fallbackReason : undefined })
  } catch (e) {
    answer({ ok: false, error: String(e && e.stack || e) })
  }
})
`

interface Answer {
  readonly ok: boolean
  readonly out?: Float32Array
  readonly ranOn?: string
  readonly fallbackReason?: string | null
  readonly error?: string
  readonly adapter?: WebgpuAdapterInfo | null
}

export interface WebgpuAdapterInfo {
  readonly vendor?: string
  readonly architecture?: string
  readonly device?: string
  readonly description?: string
  readonly fallback: boolean
}

export interface WorkerKernelsOptions {
  /** gpu.js mode in the worker: "webgpu" in use; "webasm" (async path) lets CI test the bridge. */
  readonly mode: "webgpu" | "webasm"
  readonly gpujsPath: string
  /** Resolved path of the npm `webgpu` package (webgpu mode). */
  readonly webgpuPath?: string
  /** Longest a single kernel call may take before the bridge gives up (first calls compile). */
  readonly timeoutMs?: number
}

export class WorkerGpuJsKernels implements KernelRunner {
  readonly mode: string
  ranOn: string | undefined
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly flag: Int32Array
  private readonly sent = new Set<string>()
  private readonly timeoutMs: number

  constructor(options: WorkerKernelsOptions) {
    this.mode = options.mode
    this.timeoutMs = options.timeoutMs ?? 120_000
    const signal = new SharedArrayBuffer(4)
    this.flag = new Int32Array(signal)
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: { mode: options.mode, signal, port: port2, gpujsPath: options.gpujsPath, webgpuPath: options.webgpuPath },
      transferList: [port2]
    })
    // The worker must not keep the process alive once the engine is done with it.
    this.worker.unref()
    // A worker whose Dawn still holds a device when the process ends dies in Dawn's teardown (a fatal
    // napi_throw from its setImmediate pump while the worker's environment is being torn down); free
    // gpu.js's kernels and device first, synchronously, if the owner did not.
    process.once("exit", this.destroyAtExit)
  }

  private destroyed = false
  private readonly destroyAtExit = (): void => this.destroy()

  get kernelCount(): number {
    return this.sent.size
  }

  run(key: string, spec: () => KernelSpec, args: ReadonlyArray<unknown>): Float32Array {
    const first = !this.sent.has(key)
    const answer = this.call(first ? { key, spec: spec(), args } : { key, args })
    if (!answer.ok) throw new Error(`gpu backend (${this.mode} worker): ${key}: ${answer.error}`)
    this.sent.add(key)
    if (first) {
      this.ranOn ??= answer.ranOn
      if (answer.fallbackReason) throw new Error(`gpu backend: gpu.js fell back to ${answer.ranOn} for ${key}: ${answer.fallbackReason}`)
    }
    return answer.out!
  }

  /** Asks the worker's Dawn for an adapter (webgpu mode); throws when the webgpu package does not load. */
  probeAdapter(): WebgpuAdapterInfo | null {
    const answer = this.call({ probe: true })
    if (!answer.ok) throw new Error(String(answer.error).split("\n")[0])
    return answer.adapter ?? null
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    process.removeListener("exit", this.destroyAtExit)
    try {
      this.call({ destroy: true })
    } finally {
      void this.worker.terminate()
    }
  }

  private call(request: object): Answer {
    Atomics.store(this.flag, 0, 0)
    this.worker.postMessage(request)
    const deadline = performance.now() + this.timeoutMs
    for (;;) {
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`gpu backend (${this.mode} worker): no answer in ${this.timeoutMs} ms`)
      Atomics.wait(this.flag, 0, 0, left)
      if (Atomics.load(this.flag, 0) !== 1) continue
      // The answer is posted before the flag flips; it can trail the wake-up by a moment.
      for (let spins = 0; spins < 1000; spins++) {
        const m = receiveMessageOnPort(this.port)
        if (m) return m.message as Answer
        Atomics.wait(this.flag, 0, 1, 1)
      }
      throw new Error(`gpu backend (${this.mode} worker): flag set but no answer on the port`)
    }
  }
}
