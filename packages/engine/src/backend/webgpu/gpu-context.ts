/// <reference types="@webgpu/types" />
/**
 * One WebGPU device and what every device-resident computation needs from it: storage buffers, compute
 * pipelines compiled once per WGSL source, dispatches recorded into one command encoder per step and
 * submitted together, and counted transfers (bytes written to the device and read back from it), so tests
 * can assert what crosses the bus per iteration.
 *
 * WGSL kernels are 1-D: `@builtin(global_invocation_id)` folded into one index `i` over a 2-D grid of
 * 64-thread workgroups (WebGPU caps each grid dimension at 65,535 groups).
 */
import { type AdapterSummary, chooseAdapter, openDevice } from "./webgpu-adapter.js"

export const WORKGROUP = 64

export interface Binding {
  readonly buffer: GPUBuffer
  /** `read` (storage, read-only), `rw` (storage, read_write) or `uniform`. */
  readonly access: "read" | "rw" | "uniform"
}

/** A recorded dispatch: its pipeline and bind group are built once, then encoded every step. */
export interface Dispatch {
  readonly pipeline: GPUComputePipeline
  readonly bindGroup: GPUBindGroup
  readonly groupsX: number
  readonly groupsY: number
}

export class GpuContext {
  /** Bytes copied device → host (mapAsync readbacks) since the last resetCounters. */
  bytesRead = 0
  /** Bytes copied host → device (queue.writeBuffer) since the last resetCounters. */
  bytesWritten = 0
  private readonly pipelines = new Map<string, GPUComputePipeline>()
  private encoder: GPUCommandEncoder | undefined
  private pass: GPUComputePassEncoder | undefined
  private readonly owned: GPUBuffer[] = []
  private destroyed = false
  /** Validation / out-of-memory errors the device reported (checked at every readback). */
  readonly errors: string[] = []

  private constructor(readonly device: GPUDevice, readonly adapter: AdapterSummary) {}

  /** Opens adapter `index` (see chooseAdapter: software adapters only with DEEPSPARK_GPU_ALLOW_SOFTWARE=1). */
  static async open(index = 0, env: NodeJS.ProcessEnv = process.env): Promise<GpuContext> {
    const { adapter, summary } = await chooseAdapter(index, env)
    const device = await openDevice(adapter)
    const ctx = new GpuContext(device, summary)
    device.addEventListener?.("uncapturederror", (e) => ctx.errors.push((e as GPUUncapturedErrorEvent).error.message))
    return ctx
  }

  get pipelineCount(): number {
    return this.pipelines.size
  }

  resetCounters(): void {
    this.bytesRead = 0
    this.bytesWritten = 0
  }

  /** A zeroed storage buffer of `floats` 4-byte elements (at least one, WebGPU refuses empty bindings). */
  buffer(floats: number, label = ""): GPUBuffer {
    const b = this.device.createBuffer({
      label,
      size: Math.max(4, Math.ceil((floats * 4) / 4) * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST
    })
    this.owned.push(b)
    return b
  }

  uniform(bytes: number, label = ""): GPUBuffer {
    const b = this.device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
    this.owned.push(b)
    return b
  }

  /** Host → device (counted). */
  write(buffer: GPUBuffer, data: Float32Array | Uint32Array | Int32Array, byteOffset = 0): void {
    // Dawn takes plain ArrayBuffers only: views of shared memory (the cpu backend's WebAssembly heap) go through a copy.
    const plain = data.buffer instanceof ArrayBuffer ? data : data.slice()
    this.device.queue.writeBuffer(buffer, byteOffset, plain.buffer as ArrayBuffer, plain.byteOffset, plain.byteLength)
    this.bytesWritten += data.byteLength
  }

  /** Compiles `source` once (keyed by its text) and binds `bindings` in order at @group(0) @binding(k). */
  dispatch(source: string, bindings: ReadonlyArray<Binding>, threads: number): Dispatch {
    let pipeline = this.pipelines.get(source)
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({ layout: "auto", compute: { module: this.device.createShaderModule({ code: source }), entryPoint: "main" } })
      this.pipelines.set(source, pipeline)
    }
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: bindings.map((b, k) => ({ binding: k, resource: { buffer: b.buffer } }))
    })
    const groups = Math.max(1, Math.ceil(threads / WORKGROUP))
    const groupsX = Math.min(groups, 65535)
    return { pipeline, bindGroup, groupsX, groupsY: Math.ceil(groups / groupsX) }
  }

  /** As dispatch, with the workgroup grid given (kernels with 2-D workgroups, e.g. the tiled GEMM). */
  dispatchGroups(source: string, bindings: ReadonlyArray<Binding>, groupsX: number, groupsY: number): Dispatch {
    const d = this.dispatch(source, bindings, 1)
    return { ...d, groupsX, groupsY }
  }

  /** Records a dispatch into the current step's compute pass. */
  run(d: Dispatch): void {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder()
      this.pass = this.encoder.beginComputePass()
    }
    this.pass.setPipeline(d.pipeline)
    this.pass.setBindGroup(0, d.bindGroup)
    this.pass.dispatchWorkgroups(d.groupsX, d.groupsY)
  }

  /** Zeroes a whole buffer (inside the step's command stream). */
  clear(buffer: GPUBuffer): void {
    this.endPass()
    this.encoder ??= this.device.createCommandEncoder()
    this.encoder.clearBuffer(buffer)
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end()
      this.pass = undefined
    }
  }

  /** Records a device-side copy of `floats` values (element offsets), in the step's command stream. */
  copy(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, floats: number): void {
    if (floats === 0) return
    this.endPass()
    this.encoder ??= this.device.createCommandEncoder()
    this.encoder.copyBufferToBuffer(source, sourceOffset * 4, target, targetOffset * 4, floats * 4)
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass()
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()])
      this.encoder = undefined
    }
  }

  /** Submits what is recorded and waits until the device has run it. */
  async finish(): Promise<void> {
    this.flush()
    await this.device.queue.onSubmittedWorkDone()
    if (this.errors.length > 0) throw new Error(`WebGPU error: ${this.errors.join("; ")}`)
  }

  /** Flushes, then copies `floats` values at element `offset` of `buffer` back to the host (counted). */
  async read(buffer: GPUBuffer, floats: number, offset = 0): Promise<Float32Array> {
    this.endPass()
    const encoder = this.encoder ?? this.device.createCommandEncoder()
    this.encoder = undefined
    const staging = this.device.createBuffer({ size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST })
    encoder.copyBufferToBuffer(buffer, offset * 4, staging, 0, floats * 4)
    this.device.queue.submit([encoder.finish()])
    await staging.mapAsync(GPUMapMode.READ)
    if (this.errors.length > 0) throw new Error(`WebGPU error: ${this.errors.join("; ")}`)
    const out = new Float32Array(staging.getMappedRange().slice(0))
    staging.unmap()
    staging.destroy()
    this.bytesRead += floats * 4
    return out
  }

  /** Frees every buffer and the device; owners call it before the process ends. */
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.flush()
    for (const b of this.owned) b.destroy()
    this.owned.length = 0
    this.pipelines.clear()
    this.device.destroy()
  }
}
